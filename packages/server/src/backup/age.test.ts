import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgeError, CHUNK_PLAINTEXT, PayloadSealer, checkRecipients, decryptAge, encryptAge, generateIdentity, makeHeader, makeHeaderWithTypage, unwrapFileKey } from './age.js';
import { bech32Decode, makeX25519Header, unwrapX25519Header } from './age-x25519.js';

/** Debian's age CLI (Go reference implementation), installed by .ci/run. */
const AGE = '/usr/bin/age';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'consilium-age-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* once(b: Buffer) {
  yield b;
}

async function encryptToBuffer(plain: Buffer, recipients: string[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await encryptAge(once(plain), recipients, (b) => void parts.push(Buffer.from(b)));
  return Buffer.concat(parts);
}

async function decryptBuffer(file: Buffer, identities: string[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  // Feed in odd-sized pieces so chunk framing across reads is exercised.
  async function* pieces() {
    for (let i = 0; i < file.length; i += 7777) yield file.subarray(i, i + 7777);
  }
  await decryptAge(pieces(), identities, (p) => void parts.push(Buffer.from(p)));
  return Buffer.concat(parts);
}

const sizes = [0, 1, CHUNK_PLAINTEXT - 1, CHUNK_PLAINTEXT, CHUNK_PLAINTEXT + 1, 2 * CHUNK_PLAINTEXT, 3 * CHUNK_PLAINTEXT + 12345];

describe('age payload with node:crypto, header with age-encryption', () => {
  it('Debian age -d decrypts our files with either of two X25519 identities', async () => {
    const ops = await generateIdentity('x25519');
    const escrow = await generateIdentity('x25519');
    writeFileSync(path.join(dir, 'ops.key'), ops.identity + '\n');
    writeFileSync(path.join(dir, 'escrow.key'), escrow.identity + '\n');
    for (const size of sizes) {
      const plain = randomBytes(size);
      const file = path.join(dir, `ours-${size}.age`);
      writeFileSync(file, await encryptToBuffer(plain, [ops.recipient, escrow.recipient]));
      for (const key of ['ops.key', 'escrow.key']) {
        const out = execFileSync(AGE, ['-d', '-i', path.join(dir, key), file], { maxBuffer: 64 * 1024 * 1024 });
        expect(out.equals(plain), `size ${size} with ${key}`).toBe(true);
      }
    }
  });

  it('we decrypt files that Debian age -e made', async () => {
    const id = await generateIdentity('x25519');
    for (const size of sizes) {
      const plain = randomBytes(size);
      const input = path.join(dir, `plain-${size}`);
      writeFileSync(input, plain);
      const file = path.join(dir, `theirs-${size}.age`);
      execFileSync(AGE, ['-e', '-r', id.recipient, '-o', file, input]);
      expect((await decryptBuffer(readFileSync(file), [id.identity])).equals(plain), `size ${size}`).toBe(true);
    }
  });

  it('Debian age refuses our file with a wrong identity, and so do we', async () => {
    const a = await generateIdentity('x25519');
    const b = await generateIdentity('x25519');
    const other = await generateIdentity('x25519');
    const file = path.join(dir, 'wrong.age');
    writeFileSync(file, await encryptToBuffer(Buffer.from('hello'), [a.recipient, b.recipient]));
    writeFileSync(path.join(dir, 'other.key'), other.identity + '\n');
    expect(() => execFileSync(AGE, ['-d', '-i', path.join(dir, 'other.key'), file], { stdio: 'pipe' })).toThrow();
    await expect(decryptBuffer(readFileSync(file), [other.identity])).rejects.toMatchObject({ kind: 'no-identity' });
  });

  it('post-quantum hybrid (mlkem768x25519) recipients round-trip', async () => {
    const a = await generateIdentity('mlkem768x25519');
    const b = await generateIdentity('mlkem768x25519');
    expect(a.recipient.startsWith('age1pq1')).toBe(true);
    const plain = randomBytes(2 * CHUNK_PLAINTEXT + 5);
    const file = await encryptToBuffer(plain, [a.recipient, b.recipient]);
    expect(file.toString('latin1', 0, 200)).toContain('-> mlkem768x25519 ');
    expect((await decryptBuffer(file, [b.identity])).equals(plain)).toBe(true);
  });

  it('detects a flipped bit, a cut, swapped chunks and a dropped last chunk', async () => {
    const a = await generateIdentity('x25519');
    const b = await generateIdentity('x25519');
    const plain = randomBytes(3 * CHUNK_PLAINTEXT + 100);
    const file = await encryptToBuffer(plain, [a.recipient, b.recipient]);
    const c = CHUNK_PLAINTEXT + 16;
    const payloadStart = file.length - (3 * c + 116);
    const flipped = Buffer.from(file);
    flipped[payloadStart + 1000] = flipped[payloadStart + 1000]! ^ 1;
    await expect(decryptBuffer(flipped, [a.identity])).rejects.toBeInstanceOf(AgeError);
    await expect(decryptBuffer(file.subarray(0, file.length - 50), [a.identity])).rejects.toBeInstanceOf(AgeError);
    const swapped = Buffer.concat([file.subarray(0, payloadStart), file.subarray(payloadStart + c, payloadStart + 2 * c), file.subarray(payloadStart, payloadStart + c), file.subarray(payloadStart + 2 * c)]);
    await expect(decryptBuffer(swapped, [a.identity])).rejects.toBeInstanceOf(AgeError);
    // Dropping the short last chunk leaves a full chunk at the end, which is not flagged last.
    await expect(decryptBuffer(file.subarray(0, payloadStart + 3 * c), [a.identity])).rejects.toMatchObject({ kind: 'authentication' });
  });

  it('refuses fewer than two recipients and a post-quantum/classical mix', async () => {
    const x = await generateIdentity('x25519');
    const x2 = await generateIdentity('x25519');
    const pq = await generateIdentity('mlkem768x25519');
    expect(() => checkRecipients([x.recipient])).toThrow(/at least two/);
    expect(() => checkRecipients([x.recipient, pq.recipient])).toThrow(/mix/);
    expect(checkRecipients([x.recipient, x2.recipient])).toBe('x25519');
    expect(() => checkRecipients([x.recipient, 'age1notarecipient'])).toThrow();
  });

  it('natively made X25519 headers: Debian age -d decrypts them, typage reads them, each has its own file key and shares', async () => {
    const a = await generateIdentity('x25519');
    const b = await generateIdentity('x25519');
    writeFileSync(path.join(dir, 'native-b.key'), b.identity + '\n');
    const plain = randomBytes(CHUNK_PLAINTEXT + 99);
    const made = makeX25519Header([a.recipient, b.recipient]);
    // makeHeader takes the native path for X25519 recipients.
    expect((await makeHeader([a.recipient, b.recipient])).header.toString('latin1')).toMatch(/^age-encryption\.org\/v1\n-> X25519 [A-Za-z0-9+/]{43}\n[A-Za-z0-9+/]{43}\n-> X25519 [A-Za-z0-9+/]{43}\n[A-Za-z0-9+/]{43}\n--- [A-Za-z0-9+/]{43}\n$/);
    const out: Buffer[] = [];
    const sealer = new PayloadSealer(made.fileKey, (c) => out.push(c));
    sealer.push(plain);
    sealer.finish();
    const file = path.join(dir, 'native.age');
    writeFileSync(file, Buffer.concat([made.header, sealer.nonce, ...out]));
    expect(execFileSync(AGE, ['-d', '-i', path.join(dir, 'native-b.key'), file], { maxBuffer: 64 * 1024 * 1024 }).equals(plain)).toBe(true);
    expect((await unwrapFileKey(made.header, [a.identity])).equals(made.fileKey)).toBe(true);
    const again = makeX25519Header([a.recipient, b.recipient]);
    expect(again.fileKey.equals(made.fileKey)).toBe(false);
    expect(again.header.subarray(32, 75).equals(made.header.subarray(32, 75))).toBe(false);
    // A flipped bit in a stanza or the MAC fails the header MAC (age §Header MAC).
    const bad = Buffer.from(made.header);
    bad[40] = bad[40] === 0x41 ? 0x42 : 0x41;
    await expect(unwrapFileKey(bad, [a.identity])).rejects.toBeInstanceOf(AgeError);
    // typage's header (used for hybrid recipients) still decrypts the same way.
    const typage = await makeHeaderWithTypage([a.recipient, b.recipient]);
    expect((await unwrapFileKey(typage.header, [b.identity])).equals(typage.fileKey)).toBe(true);
  });

  it('bech32 recipients: a wrong checksum, prefix or mixed case is refused', async () => {
    const { recipient } = await generateIdentity('x25519');
    expect(bech32Decode(recipient, 'age')).toHaveLength(32);
    expect(bech32Decode(recipient.toUpperCase(), 'age')).toHaveLength(32);
    const flipped = recipient.slice(0, -1) + (recipient.endsWith('q') ? 'p' : 'q');
    expect(() => bech32Decode(flipped, 'age')).toThrow(/checksum/);
    expect(() => bech32Decode(recipient, 'agx')).toThrow(/prefix/);
    expect(() => bech32Decode('A' + recipient.slice(1), 'age')).toThrow(/mixed case/);
  });

  it('opens X25519 headers natively (ours, typage\'s, Debian age\'s), and leaves anything doubtful to typage', async () => {
    const a = await generateIdentity('x25519');
    const b = await generateIdentity('x25519');
    const other = await generateIdentity('x25519');
    const ours = makeX25519Header([a.recipient, b.recipient]);
    expect(unwrapX25519Header(ours.header, [b.identity])!.equals(ours.fileKey)).toBe(true);
    const typage = await makeHeaderWithTypage([a.recipient, b.recipient]);
    expect(unwrapX25519Header(typage.header, [other.identity, a.identity])!.equals(typage.fileKey)).toBe(true);
    writeFileSync(path.join(dir, 'plain-native'), 'x');
    const theirs = path.join(dir, 'theirs-native.age');
    execFileSync(AGE, ['-e', '-r', a.recipient, '-o', theirs, path.join(dir, 'plain-native')]);
    const file = readFileSync(theirs);
    const header = file.subarray(0, file.indexOf('\n---') + 49);
    const key = unwrapX25519Header(header, [a.identity]);
    expect(key).not.toBeNull();
    expect(key!.equals(await unwrapFileKey(header, [a.identity]))).toBe(true);
    // Not a recipient; a flipped MAC; a non-canonical share (last base64 character's spare bits set): no native result.
    expect(unwrapX25519Header(ours.header, [other.identity])).toBeNull();
    const text = ours.header.toString('latin1');
    const badMac = Buffer.from(text.slice(0, -3) + (text.at(-3) === 'A' ? 'B' : 'A') + text.slice(-2), 'latin1');
    expect(unwrapX25519Header(badMac, [a.identity])).toBeNull();
    await expect(unwrapFileKey(badMac, [a.identity])).rejects.toMatchObject({ kind: 'header' });
    const share = text.slice(32, 75);
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(share.at(-1)!);
    const nonCanonical = Buffer.from(text.slice(0, 74) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[last | 1] + text.slice(75), 'latin1');
    expect(unwrapX25519Header(nonCanonical, [a.identity])).toBeNull();
    await expect(unwrapFileKey(nonCanonical, [a.identity])).rejects.toBeInstanceOf(AgeError);
  });
});
