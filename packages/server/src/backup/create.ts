import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { iso, inTransaction, type Deps } from '../deps.js';
import { auditEvent, recordAudit, systemActor, type Actor } from '../audit/record.js';
import * as auditStore from '../audit/store.js';
import { blobDirOf } from '../attachments/blob-store.js';
import { backupRecipients, loadBackupSigningKey } from './keys.js';
import { MANIFEST_FORMAT, signManifest, type ManifestBody, type ManifestFile, type SignedManifest } from './manifest.js';
import { sealObject } from './object.js';
import { packFile } from './packs.js';
import { configWithoutSecrets, LIST_WIDTH, listBlobs, postgresDump, readFileStream, startSqliteSnapshot, type SqliteSnapshotRun } from './snapshot.js';
import { inParallel, manifestName } from './target.js';
import { findTarget, openTarget } from './targets.js';
import { readChainForWriter } from './chain.js';
import { verifiedManifests } from './verified-manifests.js';
import * as store from './store.js';
import { acquireRunLock } from './lock.js';

export interface BackupResult {
  runId: string;
  snapshotId: string;
  seq: number;
  manifestHash: string;
  target: string;
  files: number;
  bytesTotal: number;
  bytesWritten: number;
  reusedBlobs: number;
  /** SQLite: the database's 64 KiB blocks, and how many the previous snapshot already held. */
  databaseBlocks: number;
  reusedBlocks: number;
  durationMs: number;
  /** Where the time went (milliseconds from the start of the run to the end of each phase). */
  phasesMs: Record<string, number>;
}

export interface BackupOptions {
  /** Recipients for this run; default: the configured ones. */
  recipients?: readonly string[];
  target?: string;
  actor?: Actor;
  /**
   * Called after each object is stored (tests use it to interrupt a run half way): the database's
   * packs, then the blobs (stored while the database was copied, reported after its packs), then
   * the configuration.
   */
  onObject?: (file: ManifestFile) => void | Promise<void>;
}

export class BackupChainError extends Error {}

/** Blobs sealed at once. */
const BLOB_LANES = 2;

/**
 * Takes a snapshot: the database (consistent copy), the blob store (unchanged blobs reused from
 * the previous snapshot), and the configuration without secrets, each encrypted to the age
 * recipients; then the signed manifest that chains to the previous one. The manifest is written
 * last, so a run that dies half way leaves no snapshot at all. The run and its manifest hash go to
 * backup_run and to the audit log in one transaction.
 */
export async function createBackup(deps: Deps, options: BackupOptions = {}): Promise<BackupResult> {
  const { config } = deps;
  const started = deps.now();
  const t0 = performance.now();
  const phasesMs: Record<string, number> = {};
  const phase = (name: string) => (phasesMs[name] = Math.round(performance.now() - t0));
  const recipients = backupRecipients(config, options.recipients);
  const key = loadBackupSigningKey(config);
  const info = findTarget(config, options.target);
  const target = openTarget(info);
  const actor = options.actor ?? systemActor(null);
  const runId = randomUUID();
  const lock = await acquireRunLock(config.dataDir);
  await store.markInterrupted(deps.db, iso(started)).catch(async (err: unknown) => {
    await lock.release();
    throw err;
  });
  const work = path.join(config.dataDir, `.backup-work-${runId}`);
  await store.insertStartedRun(deps.db, runId, 'backup', info.name, iso(started));
  // SQLite: the copy (online backup API) runs on a worker thread from the start, while this
  // thread checks the chain and stores new blobs; it is packed once complete.
  let copying: SqliteSnapshotRun | null = null;
  let removingWork: Promise<void> | null = null;
  try {
    // Work directories of runs that were killed: the lock is ours now, so nothing else uses them.
    for (const d of await readdir(config.dataDir)) if (d.startsWith('.backup-work-')) await rm(path.join(config.dataDir, d), { recursive: true, force: true });
    // The audit logs' checkpoints, read before the database's snapshot is taken (the snapshot holds them).
    const checkpoints = [];
    for (const { log_id } of await store.auditHeads(deps.db)) {
      const cp = await auditStore.latestCheckpoint(deps.db, log_id);
      if (cp) checkpoints.push({ logId: log_id, size: Number(cp.size), rootHash: cp.root_hash });
    }
    const copy = path.join(work, 'consilium.sqlite');
    if (deps.dbKind === 'sqlite') {
      await mkdir(work, { recursive: true, mode: 0o700 });
      copying = startSqliteSnapshot(config, copy);
    }

    const recorded = await store.recordedChain(deps.db, info.name);
    // Signatures this writer checked or made in earlier runs are not checked again, and manifests
    // it opened before are not opened again (verified-manifests.ts, readChainForWriter).
    const seen = await verifiedManifests(config.dataDir, key.dedupKey, key.verifier, key.signer);
    const chain = await readChainForWriter(target, seen.verifier, recorded, seen);
    if (chain.problems.length > 0) {
      throw new BackupChainError(`target "${info.name}" fails its chain check; fix or investigate before writing to it: ${chain.problems.map((p) => p.message).join('; ')}`);
    }
    phase('chain');
    // The newest in the chain, live or pruned (retention never prunes the newest, but a copy might lack it).
    const previous = chain.newest;
    const snapshotId = randomBytes(8).toString('hex');
    const files: ManifestFile[] = [];
    let bytesWritten = 0;
    let reusedBlobs = 0;
    // Objects are written without an fsync each; all are synced before the manifest: the blobs
    // while the database is still being copied, the packs while the manifest is signed, the rest last.
    const written: string[] = [];
    const synced = new Set<string>();
    const syncing: Promise<void>[] = [];
    const syncSoon = (objects: readonly string[]) => {
      if (objects.length === 0) return;
      for (const o of objects) synced.add(o);
      const p = target.syncObjects(objects);
      p.catch(() => {});
      syncing.push(p);
    };
    const add = async (file: ManifestFile, isNew: boolean) => {
      files.push(file);
      if (isNew) {
        bytesWritten += file.encryptedSize;
        written.push(file.object);
      }
      await options.onObject?.(file);
    };
    const deferSync = true;

    // 1. The database's snapshot, first: blobs are written before the rows that name them, so
    //    every blob the snapshot's rows name is still in the store when it is walked next.
    //    SQLite: the snapshot is fixed once the copy's read transaction is open (`started`); the
    //    copy goes on while the blobs are stored and is packed after them. PostgreSQL: the dump.
    let tables: Record<string, number> = {};
    if (copying) {
      await copying.started;
      phase('snapshot');
    } else {
      const dump = await postgresDump(config.databaseUrl!, (out) => sealObject(target, recipients, out, { deferSync }));
      tables = dump.tables;
      await add({ path: 'db/postgres.dump', kind: 'database', ...dump.result }, true);
    }

    // 2. Blobs: a file the previous snapshot holds under the same path, size and mtime is reused
    //    (blob names are their SHA-256, so the same path is the same content).
    //    Several blobs at once: one blob's reads and writes (libuv's thread pool) overlap another's
    //    encryption and hashing (the main thread). The manifest lists them in store order.
    const before = new Map(previous?.body.files.filter((f) => f.kind === 'blob').map((f) => [f.path, f]) ?? []);
    const blobs = (await listBlobs(blobDirOf(config))).filter((b) => !b.rel.startsWith('incoming/'));
    const done: ({ file: ManifestFile; written: boolean } | undefined)[] = new Array(blobs.length);
    // Which blobs are reused, first: each needs its old object still stored (a stat in the target).
    const reused = new Map<number, ManifestFile>();
    await inParallel(blobs.map((_, i) => i), LIST_WIDTH, async (i) => {
      const blob = blobs[i]!;
      const old = before.get(`blobs/${blob.rel}`);
      if (old && old.size === blob.size && old.mtimeMs === blob.mtimeMs && (await target.objectSize(old.object)) === old.encryptedSize) reused.set(i, old);
    });
    let next = 0;
    let stopped = false;
    const lane = async () => {
      while (next < blobs.length && !stopped) {
        const i = next++;
        const blob = blobs[i]!;
        const p = `blobs/${blob.rel}`;
        const old = reused.get(i);
        if (old) {
          done[i] = { file: old, written: false };
        } else {
          const sealed = await sealObject(target, recipients, readFileStream(blob.abs), { deferSync });
          done[i] = { file: { path: p, kind: 'blob', mtimeMs: blob.mtimeMs, ...sealed }, written: true };
        }
      }
    };
    const guarded = () =>
      lane().catch((err: unknown) => {
        stopped = true;
        throw err;
      });
    // A lane that fails stops taking work; the others finish their current blob, then the error is thrown.
    const lanes = await Promise.allSettled(Array.from({ length: BLOB_LANES }, guarded));
    const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failed) throw failed.reason;
    phase('blobs');
    syncSoon(done.filter((d) => d!.written).map((d) => d!.file.object));

    // The SQLite copy, complete: 64 KiB blocks in packs, unchanged blocks taken from the previous
    // snapshot (packs.ts). Its packs come first in the manifest, as the database always has.
    let packed: ManifestBody['packed'];
    let databaseBlocks = 0;
    let reusedBlocks = 0;
    if (copying) {
      await copying.copied;
      phase('copy');
      // The copy's thread counts its rows meanwhile; the manifest needs them, the packing not.
      const result = await packFile(target, recipients, copy, { path: 'db/consilium.sqlite', dedupKey: key.dedupKey, previous: previous?.body ?? null, deferSync, onPack: (f) => options.onObject?.(f) });
      phase('pack');
      tables = await copying.done;
      Object.assign(phasesMs, copying.timings);
      copying = null;
      syncSoon(result.written);
      // Freeing the copy's blocks takes ~0.2 s for 0.8 GiB: a libuv thread does it while this
      // one signs; awaited before the run ends.
      removingWork = rm(work, { recursive: true, force: true });
      removingWork.catch(() => {});
      files.push(...result.packs);
      written.push(...result.written);
      bytesWritten += result.bytesWritten;
      packed = [result.packed];
      databaseBlocks = result.blocks;
      reusedBlocks = result.reusedBlocks;
    }
    for (const d of done) {
      // The callback sees the objects in the order a run without the copy thread stored them: the
      // database's packs, then the blobs.
      await options.onObject?.(d!.file);
      files.push(d!.file);
      if (d!.written) {
        bytesWritten += d!.file.encryptedSize;
        written.push(d!.file.object);
      } else reusedBlobs++;
    }
    // 3. The configuration, without secrets.
    const configJson = JSON.stringify(configWithoutSecrets(config), null, 2) + '\n';
    await add({ path: 'config/config.json', kind: 'config', ...(await sealObject(target, recipients, [Buffer.from(configJson)], { deferSync })) }, true);

    phase('config');
    const body: ManifestBody = {
      format: MANIFEST_FORMAT,
      snapshotId,
      seq: previous ? previous.body.seq + 1 : 1,
      previous: previous?.hash ?? null,
      createdAt: iso(deps.now()),
      database: deps.dbKind,
      recipients: [...recipients],
      tables,
      audit: { verifierKey: deps.auditKey.verifierKey, checkpoints },
      files,
      ...(packed && { packed }),
    };
    const manifest: SignedManifest = signManifest(body, seen.signer);
    seen.rememberHead(manifest.hash, { seq: body.seq, snapshotId, previous: body.previous });
    phase('sign');
    // Every object this run wrote is on disk before the manifest that names it.
    await Promise.all(syncing);
    await target.syncObjects(written.filter((o) => !synced.has(o)));
    phase('sync');
    await target.putManifest(manifestName(body.seq, snapshotId), manifest.note);
    await seen.save();
    phase('manifest');

    const bytesTotal = files.reduce((n, f) => n + f.encryptedSize, 0);
    const durationMs = Math.round(performance.now() - t0);
    await inTransaction(deps, async (tx) => {
      await store.updateRun(tx.db, runId, {
        finished_at: iso(deps.now()),
        outcome: 'success',
        snapshot_id: snapshotId,
        seq: body.seq,
        manifest_hash: manifest.hash,
        bytes_written: bytesWritten,
        bytes_total: bytesTotal,
        files: files.length,
        duration_ms: durationMs,
        detail: JSON.stringify({ reusedBlobs, databaseBlocks, reusedBlocks, host: hostname(), recipients: recipients.length }),
      });
      await recordAudit(
        tx,
        auditEvent(tx, actor, 'backup.created', 'C', {
          organisationId: null,
          purposeOfUse: 'HSYSADMIN',
          entity: { type: 'backup_snapshot', id: snapshotId },
          detail: { target: info.name, seq: body.seq, manifestHash: manifest.hash, files: files.length, bytesWritten },
        }),
      );
    });
    await removingWork;
    phase('recorded');
    return { runId, snapshotId, seq: body.seq, manifestHash: manifest.hash, target: info.name, files: files.length, bytesTotal, bytesWritten, reusedBlobs, databaseBlocks, reusedBlocks, durationMs, phasesMs };
  } catch (err) {
    // The copy thread stops before its work directory goes.
    await (copying as SqliteSnapshotRun | null)?.cancel().catch(() => {});
    await (removingWork as Promise<void> | null)?.catch(() => {});
    await rm(work, { recursive: true, force: true }).catch(() => {});
    await recordFailure(deps, runId, 'backup', info.name, actor, err, Math.round(performance.now() - t0));
    throw err;
  } finally {
    await target.close().catch(() => {});
    await lock.release();
  }
}

export async function recordFailure(deps: Deps, runId: string, kind: 'backup' | 'verify' | 'drill', target: string, actor: Actor, err: unknown, durationMs: number): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  await inTransaction(deps, async (tx) => {
    await store.updateRun(tx.db, runId, { finished_at: iso(deps.now()), outcome: 'failure', duration_ms: durationMs, problems: 1, detail: JSON.stringify({ error: message.slice(0, 2000) }) });
    await recordAudit(
      tx,
      auditEvent(tx, actor, kind === 'backup' ? 'backup.failed' : kind === 'verify' ? 'backup.verified' : 'backup.drill', kind === 'backup' ? 'C' : 'E', {
        organisationId: null,
        outcome: 'failure',
        purposeOfUse: 'HSYSADMIN',
        detail: { target, error: message.slice(0, 500) },
      }),
    );
  }).catch(() => {
    /* the database itself may be what failed; the error is thrown to the caller anyway */
  });
}

