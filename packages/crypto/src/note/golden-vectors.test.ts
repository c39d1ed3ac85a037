import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from './checkpoint.js';
import { formatKeyId } from './key-id.js';
import { NoteError } from './note-error.js';
import { openNote, signNote } from './signed-note.js';
import { formatSignerKey, parseSignerKey } from './signer-key.js';
import { formatVerifierKey, parseVerifierKey } from './verifier-key.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const goldenFile = path.resolve(repoRoot, '../shared/testvectors/c2sp-checkpoint/golden.json');
if (!existsSync(goldenFile)) throw new Error(`C2SP golden vectors missing: ${goldenFile}`);

interface GoldenKey {
  name: string;
  seed_text: string;
  ed25519_seed_hex: string;
  ed25519_public_key_hex: string;
  key_id: string;
  signer_key: string;
  verifier_key: string;
}

interface GoldenCheckpoint {
  description: string;
  verifier_keys: string[];
  origin: string;
  size: number;
  root: string;
  extensions: string[];
  body: string;
  note: string;
  signature_line_payload_hex: string;
}

interface Golden {
  log_key: GoldenKey;
  witness_key: GoldenKey;
  checkpoints: GoldenCheckpoint[];
  invalid_notes: { case: string; verifier_keys: string[]; note: string; error_contains: string }[];
}

const golden = JSON.parse(readFileSync(goldenFile, 'utf8')) as Golden;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
const logSigner = parseSignerKey(golden.log_key.signer_key);
const witnessSigner = parseSignerKey(golden.witness_key.signer_key);
const logVerifier = parseVerifierKey(golden.log_key.verifier_key);
const witnessVerifier = parseVerifierKey(golden.witness_key.verifier_key);

describe('C2SP golden keys (Go sumdb/note)', () => {
  it.each([golden.log_key, golden.witness_key])('$name', (key) => {
    const seed = sha256(new TextEncoder().encode(key.seed_text));
    expect(hex(seed)).toBe(key.ed25519_seed_hex);
    expect(formatSignerKey(key.name, seed)).toBe(key.signer_key);
    expect(formatVerifierKey(key.name, fromHex(key.ed25519_public_key_hex))).toBe(key.verifier_key);
    const signer = parseSignerKey(key.signer_key);
    const verifier = parseVerifierKey(key.verifier_key);
    expect(hex(signer.publicKey)).toBe(key.ed25519_public_key_hex);
    expect(hex(verifier.publicKey)).toBe(key.ed25519_public_key_hex);
    expect(formatKeyId(signer.keyId)).toBe(key.key_id);
    expect(formatKeyId(verifier.keyId)).toBe(key.key_id);
    expect(signer.name).toBe(key.name);
    expect(verifier.name).toBe(key.name);
  });
});

describe('C2SP golden checkpoints', () => {
  it.each(golden.checkpoints)('$description', (c) => {
    const checkpoint = {
      origin: c.origin,
      size: c.size,
      rootHash: new Uint8Array(Buffer.from(c.root, 'base64')),
      extensions: c.extensions,
    };
    expect(formatCheckpoint(checkpoint)).toBe(c.body);
    expect(parseCheckpoint(c.body)).toEqual(checkpoint);

    // Ed25519 is deterministic, so signing reproduces Go's notes byte for byte.
    const hasWitness = c.note.includes(`\u2014 ${golden.witness_key.name} `);
    const signers = hasWitness ? [logSigner, witnessSigner] : [logSigner];
    expect(signNote(c.body, signers)).toBe(c.note);
    const firstLine = c.note.slice(c.body.length + 1).split('\n')[0] as string;
    const payload = Buffer.from(firstLine.split(' ')[2] as string, 'base64');
    expect(payload.toString('hex')).toBe(c.signature_line_payload_hex);

    const verifiers = c.verifier_keys.map(parseVerifierKey);
    const opened = openNote(c.note, verifiers);
    expect(opened.text).toBe(c.body);
    expect(opened.verified.map((s) => s.name)).toEqual([golden.log_key.name]);
    expect(opened.unverified.map((s) => s.name)).toEqual(hasWitness ? [golden.witness_key.name] : []);
    expect(openCheckpoint(c.note, verifiers, c.origin).checkpoint).toEqual(checkpoint);
    expect(openNote(new TextEncoder().encode(c.note), verifiers).text).toBe(c.body);

    if (hasWitness) {
      const cosigned = openNote(c.note, [logVerifier, witnessVerifier]);
      expect(cosigned.verified.map((s) => s.name)).toEqual([golden.log_key.name, golden.witness_key.name]);
      expect(cosigned.unverified).toEqual([]);
      // The witness alone is enough for openNote: which keys a caller demands is its policy.
      expect(openNote(c.note, [witnessVerifier]).verified.map((s) => s.name)).toEqual([golden.witness_key.name]);
    }
  });
});

describe('C2SP golden invalid notes', () => {
  it.each(golden.invalid_notes)('$case', (c) => {
    const verifiers = c.verifier_keys.map(parseVerifierKey);
    let error: unknown;
    try {
      parseCheckpoint(openNote(c.note, verifiers).text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NoteError);
    expect((error as NoteError).message).toContain(c.error_contains);
    expect(() => openCheckpoint(c.note, verifiers, golden.log_key.name)).toThrow(NoteError);
  });
});
