import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openNote, signNote } from '@consilium/crypto/note';
import { backupSigningKey, generateBackupSigningKey } from './manifest.js';
import { VERIFIED_FILE, verifiedManifests } from './verified-manifests.js';

const dir = mkdtempSync(path.join(tmpdir(), 'consilium-verified-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signatures the backup writer has already checked (verified-manifests.ts)', () => {
  const key = backupSigningKey(generateBackupSigningKey().signerKey);
  const other = backupSigningKey(generateBackupSigningKey().signerKey);
  const text = (n: number) => `consilium-backup/v1\n{"seq":${n}}\n`;

  it('verifies a note once; the next run finds it (or one it signed itself) without verifying again', async () => {
    const first = await verifiedManifests(dir, key.dedupKey, key.verifier, key.signer);
    const a = signNote(text(1), [key.signer]);
    const b = signNote(text(2), [first.signer]);
    expect(openNote(a, [first.verifier]).text).toBe(text(1));
    expect(first.checked).toBe(1);
    await first.save();
    const next = await verifiedManifests(dir, key.dedupKey, key.verifier, key.signer);
    expect(openNote(a, [next.verifier]).text).toBe(text(1));
    expect(openNote(b, [next.verifier]).text).toBe(text(2));
    expect(next.checked).toBe(0);
  });

  it('checks again a note whose text or signature differs, and still refuses a bad one', async () => {
    const v = await verifiedManifests(dir, key.dedupKey, key.verifier, key.signer);
    const a = signNote(text(1), [key.signer]);
    // Same signature line, another text: a real check, which fails.
    const forged = a.replace('"seq":1', '"seq":7');
    expect(() => openNote(forged, [v.verifier])).toThrow(/invalid signature/);
    // A signature by another key under this key's name and id is not in the file either.
    const byOther = signNote(text(1), [{ ...other.signer, name: key.signer.name, keyId: key.signer.keyId }]);
    expect(() => openNote(byOther, [v.verifier])).toThrow(/invalid signature/);
    expect(v.checked).toBe(2);
  });

  it('ignores entries it cannot have made: another key, an edited or a broken file', async () => {
    const a = signNote(text(3), [key.signer]);
    const v = await verifiedManifests(dir, key.dedupKey, key.verifier, key.signer);
    openNote(a, [v.verifier]);
    await v.save();
    // Under another dedup key (another signing key) the entries mean nothing.
    const elsewhere = await verifiedManifests(dir, other.dedupKey, key.verifier, key.signer);
    openNote(a, [elsewhere.verifier]);
    expect(elsewhere.checked).toBe(1);
    // Entries written by someone without the key: not found, so verified.
    const file = path.join(dir, VERIFIED_FILE);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { entries: string[] };
    writeFileSync(file, JSON.stringify({ entries: saved.entries.map((e) => (e[0] === 'a' ? 'b' : 'a') + e.slice(1)) }));
    const edited = await verifiedManifests(dir, key.dedupKey, key.verifier, key.signer);
    openNote(a, [edited.verifier]);
    expect(edited.checked).toBe(1);
    writeFileSync(file, '{ not json');
    const broken = await verifiedManifests(dir, key.dedupKey, key.verifier, key.signer);
    expect(openNote(a, [broken.verifier]).text).toBe(text(3));
    expect(broken.checked).toBe(1);
  });
});
