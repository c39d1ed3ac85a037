import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { NoteVerifier } from '@consilium/crypto/note';
import { ManifestError, openManifest, type CheckedManifest, type ManifestBody, type ManifestFile } from './manifest.js';
import { MANIFEST_NAME, type BackupTarget } from './target.js';

export interface ChainProblem {
  kind: 'signature' | 'renamed' | 'deleted' | 'chain' | 'forked' | 'rolled-back';
  seq: number | null;
  message: string;
}

export interface Chain {
  /**
   * Manifests whose signature verifies, in seq order (live snapshots only). Without their notes:
   * a chain of a year of daily snapshots of a large database holds hundreds of 4 MB notes.
   */
  manifests: CheckedManifest[];
  /** Manifests of pruned snapshots (in pruned/): their links are checked, their data is gone on purpose. */
  pruned: CheckedManifest[];
  problems: ChainProblem[];
}

/** What the server recorded for a snapshot it wrote (backup_run rows): the trusted anchor. */
export interface RecordedSnapshot {
  seq: number;
  snapshotId: string;
  manifestHash: string;
}

/** What the chain check needs of a manifest: its hash and its place in the chain. */
export interface ChainLink {
  hash: string;
  body: Pick<ManifestBody, 'seq' | 'snapshotId' | 'previous'>;
}

/**
 * Reads and checks a target's manifest chain: every signature, that each file name matches its
 * manifest, that each manifest names its predecessor's hash, and that no seq is missing between
 * the oldest and the newest (the oldest may be gone: retention prunes from the start). Against
 * the server's own record it finds a deleted newest snapshot (rolled back) and a manifest that
 * replaced a recorded one (forked).
 */
export async function readChain(target: BackupTarget, verifier: NoteVerifier, recorded: readonly RecordedSnapshot[] = []): Promise<Chain> {
  // Snapshots name mostly the same objects (blobs, reused packs), each with its full list of chunk
  // hashes: one copy of each identical entry is kept, so a chain of many snapshots costs about one
  // manifest's memory (7 MiB at full size), not one per snapshot.
  const entries = new Map<string, ManifestFile>();
  const shared = (body: ManifestBody): ManifestBody => ({
    ...body,
    files: body.files.map((f) => {
      const seen = entries.get(f.object);
      if (!seen) entries.set(f.object, f);
      return seen && isDeepStrictEqual(seen, f) ? seen : f;
    }),
  });
  return walkChain(target, recorded, async (name, dir) => {
    const { body, hash } = openManifest(await target.readManifest(name, dir), verifier);
    return { body: shared(body), hash };
  });
}

/** A manifest's place in the chain, as the backup writer remembers it (verified-manifests.ts). */
export interface ChainHead {
  seq: number;
  snapshotId: string;
  previous: string | null;
}

/** Where the writer keeps the heads of manifests it has opened, by manifest hash. */
export interface ChainHeadMemo {
  head(hash: string): ChainHead | undefined;
  rememberHead(hash: string, head: ChainHead): void;
}

/**
 * The chain check at the start of a backup: the same checks as readChain, on every manifest's
 * exact bytes, but a manifest whose hash (SHA-256 of the whole signed note) the writer has opened
 * before is not opened again: its seq, id and predecessor come from `memo`. Opening one at full
 * size (note checks, JSON, schema) took ~140 ms, once per kept snapshot per backup otherwise.
 * Returns the problems and the newest manifest (live or pruned), opened in full: the backup
 * reuses what it holds.
 */
export async function readChainForWriter(
  target: BackupTarget,
  verifier: NoteVerifier,
  recorded: readonly RecordedSnapshot[],
  memo: ChainHeadMemo,
): Promise<{ problems: ChainProblem[]; newest: CheckedManifest | null; opened: number }> {
  type Place = ChainLink & { name: string; dir: 'snapshots' | 'pruned' };
  let opened = 0;
  // Of the manifests opened in full here, only the body of the newest is kept (a first run over a
  // long chain would otherwise hold every body).
  const kept: { newest: CheckedManifest | null } = { newest: null };
  const chain = await walkChain<Place>(target, recorded, async (name, dir) => {
    // The hash of the file's bytes: for valid UTF-8 (all the memo holds) the manifest hash itself.
    const bytes = await target.readManifestBytes(name, dir);
    const byBytes = createHash('sha256').update(bytes).digest('hex');
    const known = memo.head(byBytes);
    if (known) return { hash: byBytes, body: known, name, dir };
    const m = openManifest(bytes.toString('utf8'), verifier);
    opened++;
    const head = { seq: m.body.seq, snapshotId: m.body.snapshotId, previous: m.body.previous };
    memo.rememberHead(m.hash, head);
    if (!kept.newest || m.body.seq > kept.newest.body.seq) kept.newest = { body: m.body, hash: m.hash };
    return { hash: m.hash, body: head, name, dir };
  });
  const last = [...chain.manifests, ...chain.pruned].sort((a, b) => a.body.seq - b.body.seq).at(-1);
  if (!last) return { problems: chain.problems, newest: null, opened };
  // Opened in full again, signature and all, when this walk took it from the memo.
  const newest = kept.newest?.hash === last.hash ? kept.newest : openManifest(await target.readManifest(last.name, last.dir), verifier);
  if (newest.hash !== last.hash) throw new ManifestError(`${last.dir === 'pruned' ? 'pruned/' : ''}${last.name} changed while the chain was read`);
  return { problems: chain.problems, newest: { body: newest.body, hash: newest.hash }, opened };
}

/**
 * The chain's checks, on manifests opened by `open` (which throws ManifestError for one whose
 * signature or form is bad).
 */
async function walkChain<M extends ChainLink>(
  target: BackupTarget,
  recorded: readonly RecordedSnapshot[],
  open: (name: string, dir: 'snapshots' | 'pruned') => Promise<M>,
): Promise<{ manifests: M[]; pruned: M[]; problems: ChainProblem[] }> {
  const problems: ChainProblem[] = [];
  const bySeq = new Map<number, M[]>();
  const prunedHashes = new Set<string>();
  const live = (await target.listManifests()).map((name) => ({ name, dir: 'snapshots' as const }));
  const retired = (await target.listPrunedManifests()).map((name) => ({ name, dir: 'pruned' as const }));
  for (const { name, dir } of [...live, ...retired]) {
    const [, seqText, id] = MANIFEST_NAME.exec(name)!;
    const seq = Number(seqText);
    const where = dir === 'pruned' ? `pruned/${name}` : name;
    let m: M;
    try {
      m = await open(name, dir);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      problems.push({ kind: 'signature', seq, message: `${where}: ${err.message}` });
      continue;
    }
    if (m.body.seq !== seq || m.body.snapshotId !== id) {
      problems.push({ kind: 'renamed', seq, message: `${where} holds the manifest of snapshot ${m.body.seq}-${m.body.snapshotId}` });
      continue;
    }
    const here = bySeq.get(seq) ?? [];
    // The same manifest in both places (a prune caught half way) is one snapshot, still live.
    if (here.some((h) => h.hash === m.hash)) continue;
    if (dir === 'pruned') prunedHashes.add(m.hash);
    bySeq.set(seq, [...here, m]);
  }

  const manifests: M[] = [];
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  let prev: M | null = null;
  for (const seq of seqs) {
    const here = bySeq.get(seq)!;
    if (here.length > 1) problems.push({ kind: 'forked', seq, message: `${here.length} different signed manifests claim seq ${seq}: the chain forked` });
    if (prev && seq !== prev.body.seq + 1) {
      for (let s = prev.body.seq + 1; s < seq; s++) problems.push({ kind: 'deleted', seq: s, message: `snapshot ${s} is missing between ${prev.body.seq} and ${seq}` });
    }
    const m = here[0]!;
    if (m.body.seq === 1 && m.body.previous !== null) problems.push({ kind: 'chain', seq, message: 'snapshot 1 names a predecessor' });
    if (prev && seq === prev.body.seq + 1) {
      const matches = here.filter((h) => h.body.previous === prev!.hash);
      if (matches.length === 0) problems.push({ kind: 'chain', seq, message: `snapshot ${seq} does not name snapshot ${prev.body.seq}'s manifest hash as its predecessor` });
    }
    manifests.push(...here.filter((h) => !prunedHashes.has(h.hash)));
    prev = here.find((h) => !prev || h.body.previous === prev.hash) ?? m;
  }
  const pruned = [...bySeq.values()].flat().filter((h) => prunedHashes.has(h.hash));

  // The server's record: a newer seq than the target holds means the newest snapshots were
  // deleted (rolled back); the same seq with another hash means a manifest was replaced.
  const newest = seqs.length ? seqs[seqs.length - 1]! : 0;
  const oldest = seqs.length ? seqs[0]! : 0;
  for (const r of recorded) {
    const here = bySeq.get(r.seq);
    if (here) {
      if (!here.some((h) => h.hash === r.manifestHash)) problems.push({ kind: 'forked', seq: r.seq, message: `snapshot ${r.seq} on the target is not the one this server wrote and recorded (manifest ${r.manifestHash.slice(0, 12)}…)` });
    } else if (r.seq > newest) {
      problems.push({ kind: 'rolled-back', seq: r.seq, message: `snapshot ${r.seq} (${r.snapshotId}) was recorded but the target's chain ends at ${newest}: rolled back` });
    } else if (r.seq > oldest) {
      if (!problems.some((p) => p.kind === 'deleted' && p.seq === r.seq)) problems.push({ kind: 'deleted', seq: r.seq, message: `recorded snapshot ${r.seq} (${r.snapshotId}) is missing` });
    }
  }
  return { manifests, pruned, problems };
}
