import { createHash, hkdfSync } from 'node:crypto';
import { z } from 'zod';
import { formatVerifierKey, generateNoteKey, openNote, signNote, type NoteSigner, type NoteVerifier } from '@consilium/crypto/note';
import { nativeNoteSigner } from './native-signer.js';
import { nativeNoteVerifier } from './native-verifier.js';

/**
 * A snapshot's manifest: what it holds, and the hash of every ciphertext chunk of every object,
 * so a verifier without any decryption key can check all stored bytes. It is a C2SP signed note
 * (https://c2sp.org/signed-note) whose text is one line of JSON, signed with the deployment's
 * Ed25519 backup signing key. Each manifest names the SHA-256 of the previous manifest's note, so
 * the manifests form a hash chain: deleting, reordering or replacing one breaks the chain.
 */

export const MANIFEST_FORMAT = 'consilium-backup/v1';
const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const ManifestFile = z.strictObject({
  /** Path inside the snapshot: db/consilium.sqlite, db/postgres.dump, blobs/…, config/config.json. */
  path: z.string().min(1),
  kind: z.enum(['database', 'blob', 'config']),
  /** Object name in the target (random, never reused, never overwritten). */
  object: z.string().regex(/^[0-9a-f]{32}$/),
  /** Plaintext size and SHA-256 (checked after decryption by restore and --read-data). */
  size: z.number().int().nonnegative(),
  sha256: Hex64,
  /** Source file's mtime (blobs), to skip unchanged files without reading them. */
  mtimeMs: z.number().optional(),
  /**
   * A pack (the SQLite database is stored as 64 KiB blocks in packs, see packs.ts): the keyed id
   * of each block it holds, in order (HMAC-SHA-256 under the writer's dedup key, first 128 bits),
   * so the next snapshot finds unchanged blocks. Where the blocks go is in the body's `packed`.
   */
  blockIds: z.array(z.string().regex(/^[0-9a-f]{32}$/)).optional(),
  /** The age object: total bytes, SHA-256 of header||payload nonce, SHA-256 of each STREAM chunk in order. */
  encryptedSize: z.number().int().nonnegative(),
  headerSha256: Hex64,
  chunks: z.array(Hex64).min(1),
});
export type ManifestFile = z.infer<typeof ManifestFile>;

/**
 * A file stored as blocks in packs: its size and plaintext SHA-256 (restore checks the
 * reassembled file against it), and its blocks in file order as runs [pack object, first block
 * in the pack, block count]. Every pack a run names is an entry of `files` with the same path.
 */
export const PackedFile = z.strictObject({
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: Hex64,
  blockSize: z.literal(65536),
  runs: z.array(z.tuple([z.string().regex(/^[0-9a-f]{32}$/), z.number().int().nonnegative(), z.number().int().positive()])),
});
export type PackedFile = z.infer<typeof PackedFile>;

export const ManifestBody = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  snapshotId: z.string().regex(/^[0-9a-f]{16}$/),
  /** 1 for the first snapshot of a chain, then +1. */
  seq: z.number().int().positive(),
  /** SHA-256 (hex) of the previous manifest's signed note; null for seq 1. */
  previous: Hex64.nullable(),
  /** The writer's clock: informational only, retention never trusts it. */
  createdAt: z.string(),
  database: z.enum(['sqlite', 'postgres']),
  recipients: z.array(z.string()).min(2),
  /** Rows per table in the snapshot, counted inside the snapshot's own consistent view. */
  tables: z.record(z.string(), z.number().int().nonnegative()),
  /** The audit logs' latest signed checkpoints at snapshot time, and the key that signs them. */
  audit: z.strictObject({
    verifierKey: z.string(),
    checkpoints: z.array(z.strictObject({ logId: z.string(), size: z.number().int().nonnegative(), rootHash: z.string() })),
  }),
  files: z.array(ManifestFile),
  /** Files stored as blocks in packs (the SQLite database); absent in older manifests. */
  packed: z.array(PackedFile).optional(),
});
export type ManifestBody = z.infer<typeof ManifestBody>;

/** A manifest whose signature verified: its body and the hash of its signed note. */
export interface CheckedManifest {
  body: ManifestBody;
  /** SHA-256 (hex) of the note: what the next manifest and the audit log refer to. */
  hash: string;
}

export interface SignedManifest extends CheckedManifest {
  /** The signed note exactly as stored. */
  note: string;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

export const manifestHash = (note: string): string => createHash('sha256').update(note, 'utf8').digest('hex');

export function signManifest(body: ManifestBody, signer: NoteSigner): SignedManifest {
  const text = `${MANIFEST_FORMAT}\n${JSON.stringify(ManifestBody.parse(body))}\n`;
  const note = signNote(text, [signer]);
  return { body, note, hash: manifestHash(note) };
}

/** Checks the signature and the shape; throws ManifestError. */
export function openManifest(note: string, verifier: NoteVerifier): SignedManifest {
  let text: string;
  try {
    text = openNote(note, [verifier]).text;
  } catch (err) {
    throw new ManifestError(`manifest signature does not verify: ${(err as Error).message}`);
  }
  const [format, json, rest] = text.split('\n');
  if (format !== MANIFEST_FORMAT || !json || rest !== '') throw new ManifestError('manifest is not in the consilium-backup/v1 format');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ManifestError('manifest body is not JSON');
  }
  const body = ManifestBody.safeParse(parsed);
  if (!body.success) throw new ManifestError(`manifest body is malformed: ${body.error.issues[0]?.message ?? ''}`);
  return { body: body.data, note, hash: manifestHash(note) };
}

/** The Ed25519 backup signing key: a C2SP signer key string; its verifier key is what verifiers pin. */
export interface BackupSigningKey {
  signer: NoteSigner;
  verifier: NoteVerifier;
  verifierKey: string;
  /**
   * The dedup key: names database blocks by HMAC-SHA-256 of their plaintext (as restic names
   * chunks with a keyed MAC), so unchanged blocks are found again without a manifest holding
   * plain hashes of small pieces of the database. HKDF-SHA-256 (RFC 5869) of the signing key: it
   * lives only where the signing key does, on the writer; restore and verify never need it.
   */
  dedupKey: Buffer;
}

export const BACKUP_KEY_NAME = 'consilium-backup';

export function generateBackupSigningKey(name = BACKUP_KEY_NAME): { signerKey: string; verifierKey: string } {
  return generateNoteKey(name);
}

export function backupSigningKey(signerKey: string): BackupSigningKey {
  // Node's Ed25519: the same signatures as parseSignerKey's, without hashing the manifest in JavaScript.
  const signer = nativeNoteSigner(signerKey);
  const verifierKey = formatVerifierKey(signer.name, signer.publicKey);
  const dedupKey = Buffer.from(hkdfSync('sha256', Buffer.from(signerKey, 'utf8'), Buffer.alloc(0), 'consilium-backup dedup key v1', 32));
  return { signer, verifier: nativeNoteVerifier(verifierKey), verifierKey, dedupKey };
}

/** Checks manifests with Node's Ed25519 (native-verifier.ts): every manifest of a chain is checked. */
export function backupVerifier(verifierKey: string): NoteVerifier {
  return nativeNoteVerifier(verifierKey);
}
