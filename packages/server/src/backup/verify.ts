import { createHash } from 'node:crypto';
import type { NoteVerifier } from '@consilium/crypto/note';
import { readChain, type ChainProblem, type RecordedSnapshot } from './chain.js';
import { checkObject, type ObjectProblem } from './object.js';
import { checkPackedLayout } from './packs.js';
import type { BackupTarget } from './target.js';

export interface VerifyOptions {
  /** Snapshots the server recorded (detects a rolled-back or forked chain). */
  recorded?: readonly RecordedSnapshot[];
  /** With identities, decrypt and check the plaintext too (--read-data). */
  identities?: readonly string[];
  /** Decrypt only subset n of t (1-based), chosen by object name (--read-data-subset n/t). */
  subset?: { n: number; t: number };
}

export interface BackupProblem {
  kind: ChainProblem['kind'] | ObjectProblem['kind'];
  /** The snapshot it concerns (seq), when one. */
  seq: number | null;
  message: string;
}

export interface BackupVerifyReport {
  target: string;
  ok: boolean;
  snapshots: number;
  latestSeq: number | null;
  objects: number;
  bytes: number;
  /** Objects decrypted and checked end to end. */
  objectsRead: number;
  mode: 'structure' | 'read-data' | 'read-data-subset';
  problems: BackupProblem[];
}

/** Parses `n/t`, or `auto/t` (today's share: every object is read once in t days). */
export function parseSubset(text: string, now: Date): { n: number; t: number } {
  const m = /^(\d+|auto)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error('--read-data-subset takes n/t, e.g. 1/7, or auto/t');
  const t = Number(m[2]);
  const n = m[1] === 'auto' ? (Math.floor(now.getTime() / 86_400_000) % t) + 1 : Number(m[1]);
  if (t < 1 || n < 1 || n > t) throw new Error('--read-data-subset n/t needs 1 <= n <= t');
  return { n, t };
}

export function inSubset(object: string, subset: { n: number; t: number }): boolean {
  // The object name is random, so shares are even; hashing it keeps shares stable across runs.
  const h = createHash('sha256').update(object).digest().readUInt32BE(0);
  return h % subset.t === subset.n - 1;
}

/**
 * Checks a target without any decryption key: every manifest signature, the hash chain (and the
 * server's record of it), and the SHA-256 of every ciphertext chunk of every object a manifest
 * names. With identities it also decrypts (all, or a rotating subset) and checks the plaintext.
 */
export async function verifyTarget(target: BackupTarget, verifier: NoteVerifier, options: VerifyOptions = {}): Promise<BackupVerifyReport> {
  const chain = await readChain(target, verifier, options.recorded ?? []);
  const problems: BackupProblem[] = chain.problems.map((p) => ({ ...p }));
  const checked = new Map<string, ObjectProblem[]>();
  let bytes = 0;
  let objectsRead = 0;
  const reading = !!options.identities?.length;
  for (const m of chain.manifests) {
    for (const p of checkPackedLayout(m.body)) problems.push({ kind: 'truncated', seq: m.body.seq, message: `snapshot ${m.body.seq}: ${p.message}` });
    for (const file of m.body.files) {
      const key = `${file.object}:${file.headerSha256}`;
      let found = checked.get(key);
      if (!found) {
        const decrypt = reading && (!options.subset || inSubset(file.object, options.subset));
        found = await checkObject(target, file, decrypt ? { identities: options.identities! } : {});
        if (decrypt) objectsRead++;
        bytes += file.encryptedSize;
        checked.set(key, found);
      }
      for (const p of found) problems.push({ kind: p.kind, seq: m.body.seq, message: `snapshot ${m.body.seq}: ${p.message}` });
    }
  }
  const latest = chain.manifests.at(-1);
  return {
    target: target.name,
    ok: problems.length === 0,
    snapshots: chain.manifests.length,
    latestSeq: latest ? latest.body.seq : null,
    objects: checked.size,
    bytes,
    objectsRead,
    mode: !reading ? 'structure' : options.subset ? 'read-data-subset' : 'read-data',
    problems,
  };
}
