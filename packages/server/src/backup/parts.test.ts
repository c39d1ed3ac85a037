import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from './age.js';
import type { ManifestFile } from './manifest.js';
import { checkObject } from './object.js';
import { DecryptPool } from './decrypt-pool.js';
import { PART_SIZE, keyedId, partLayout, sealParts } from './parts.js';
import { LocalTarget } from './target.js';

const AGE = '/usr/bin/age';
let dir: string;
let target: LocalTarget;
let ops: { identity: string; recipient: string };
let escrow: { identity: string; recipient: string };
const dedupKey = randomBytes(32);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'consilium-parts-'));
  target = new LocalTarget('local', path.join(dir, 'target'));
  ops = await generateIdentity('x25519');
  escrow = await generateIdentity('x25519');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* pieces(b: Buffer, step = 300_001) {
  for (let i = 0; i < b.length; i += step) yield b.subarray(i, i + step);
}

/** Decrypts every part and puts it at its offset (what restore does). */
async function assemble(files: readonly ManifestFile[], identity: string): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const f of files) {
    const got: Buffer[] = [];
    const problems = await checkObject(target, f, { identities: [identity], sink: async (p) => void got.push(Buffer.from(p)) });
    expect(problems).toEqual([]);
    expect(f.offset).toBe(Buffer.concat(out).length);
    out.push(...got);
  }
  return Buffer.concat(out);
}

describe('database parts', () => {
  it('cut at 1 MiB, each its own age object; a one-page change stores one new part and reuses the rest', async () => {
    const data = randomBytes(3 * PART_SIZE + 5000);
    const first = await sealParts(target, [ops.recipient, escrow.recipient], pieces(data), { path: 'db/consilium.sqlite', dedupKey, previous: [] });
    expect(first.files.map((f) => [f.offset, f.size])).toEqual([
      [0, PART_SIZE],
      [PART_SIZE, PART_SIZE],
      [2 * PART_SIZE, PART_SIZE],
      [3 * PART_SIZE, 5000],
    ]);
    expect(first.reused).toBe(0);
    expect(partLayout(first.files).problems).toEqual([]);
    expect((await assemble(first.files, escrow.identity)).equals(data)).toBe(true);

    // One 4 KiB page changes in the second part.
    const changed = Buffer.from(data);
    randomBytes(4096).copy(changed, PART_SIZE + 8192);
    const second = await sealParts(target, [ops.recipient, escrow.recipient], pieces(changed, 65536), { path: 'db/consilium.sqlite', dedupKey, previous: first.files });
    expect(second.reused).toBe(3);
    expect(second.files.map((f) => f.object === first.files[second.files.indexOf(f)]!.object)).toEqual([true, false, true, true]);
    expect(second.bytesWritten).toBe(second.files[1]!.encryptedSize);
    expect((await assemble(second.files, ops.identity)).equals(changed)).toBe(true);
  });

  it('names parts by a keyed hash: no plain SHA-256 of a part in the manifest, another key gives other ids', async () => {
    const data = Buffer.alloc(PART_SIZE + 10, 0);
    const { files } = await sealParts(target, [ops.recipient, escrow.recipient], pieces(data), { path: 'db/postgres.dump', dedupKey, previous: [] });
    const plain = createHash('sha256').update(data.subarray(0, PART_SIZE)).digest('hex');
    const text = JSON.stringify(files);
    expect(text).not.toContain(plain);
    expect(files.every((f) => f.sha256 === undefined)).toBe(true);
    expect(files[0]!.keyedId).toBe(keyedId(dedupKey, data.subarray(0, PART_SIZE)));
    expect(keyedId(randomBytes(32), data.subarray(0, PART_SIZE))).not.toBe(files[0]!.keyedId);
    // An empty database dump is still one (empty) part.
    const empty = await sealParts(target, [ops.recipient, escrow.recipient], pieces(Buffer.alloc(0)), { path: 'db/postgres.dump', dedupKey, previous: [] });
    expect(empty.files.map((f) => [f.offset, f.size])).toEqual([[0, 0]]);
  });

  it('worker threads open chunks as the calling thread does: same plaintext, and an altered chunk fails', async () => {
    const data = randomBytes(3 * PART_SIZE + 123);
    const { files } = await sealParts(target, [ops.recipient, escrow.recipient], pieces(data), { path: 'db/consilium.sqlite', dedupKey, previous: [] });
    const pool = new DecryptPool(2);
    try {
      const got: Buffer[] = [];
      for (const f of files) expect(await checkObject(target, f, { identities: [ops.identity], pool, skipChunkHashes: true, sink: async (p) => void got.push(Buffer.from(p)) })).toEqual([]);
      expect(Buffer.concat(got).equals(data)).toBe(true);
      const f = files[1]!;
      const file = path.join(target.location, 'objects', f.object.slice(0, 2), f.object);
      const bytes = readFileSync(file);
      bytes[bytes.length - 70_000] ^= 1;
      writeFileSync(file, bytes);
      const problems = await checkObject(target, f, { identities: [ops.identity], pool, skipChunkHashes: true });
      expect(problems.map((p) => p.kind)).toEqual(['decrypt']);
      expect(problems[0]!.message).toMatch(/does not authenticate/);
    } finally {
      await pool.close();
    }
  });

  it('a layout with a gap, an overlap or parts out of order is reported without any key', () => {
    const part = (offset: number, size: number) => ({ path: 'db/consilium.sqlite', kind: 'database', offset, size, keyedId: '0'.repeat(64), object: '1'.repeat(32), encryptedSize: 1, headerSha256: '2'.repeat(64), chunks: ['3'.repeat(64)] }) as ManifestFile;
    expect(partLayout([part(0, 10), part(10, 5)]).problems).toEqual([]);
    expect(partLayout([part(0, 10), part(12, 5)]).problems[0]!.message).toMatch(/starts at byte 12, expected 10/);
    expect(partLayout([part(10, 5), part(0, 10)]).problems).toHaveLength(1);
    expect(partLayout([part(0, 10), part(5, 10)]).problems).toHaveLength(1);
  });

  if (!existsSync(AGE)) console.warn(`skipping the age CLI test: ${AGE} is not installed (.ci/run installs Debian's age)`);
  it.skipIf(!existsSync(AGE))('Debian age -d decrypts a part on its own (each stored object is a whole age file)', async () => {
    const data = randomBytes(PART_SIZE + 777);
    const { files } = await sealParts(target, [ops.recipient, escrow.recipient], pieces(data), { path: 'db/consilium.sqlite', dedupKey, previous: [] });
    const keyFile = path.join(dir, 'escrow.key');
    execFileSync('sh', ['-c', `umask 077; printf '%s\\n' "$1" > "$2"`, 'sh', escrow.identity, keyFile]);
    const out = files.map((f) => execFileSync(AGE, ['-d', '-i', keyFile, path.join(target.location, 'objects', f.object.slice(0, 2), f.object)]));
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });
});
