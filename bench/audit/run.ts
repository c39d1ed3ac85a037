/**
 * Audit log benchmark (issue 4): append throughput with the checkpointer running, both with one
 * event per transaction (as actions produce them) and batched; proof generation time from the
 * stored tiles (the code warmed by 1,000 proofs first, the measured ones through a second database
 * handle whose tile cache starts empty; the cache holds about half of a 1M log's level-0 tiles);
 * and `audit verify` time for the whole log. Each phase starts after a full GC, a `sync` and 2 s
 * idle, so it pays neither for the garbage nor for the disk writeback of the one before. Appends write the record of truth only; the search index (audit/indexer.ts)
 * is built after them and measured on its own, with the sustained rate of both on one thread.
 *
 *   npx tsx bench/audit/run.ts [--entries 1000000] [--db sqlite|postgres] [--batch 1000]
 *                              [--single-seconds 10] [--proofs 1000] [--max-minutes 60] [--quick]
 *
 * --quick is the CI size: 20,000 entries, 200 proofs, 3 s of single-event appends.
 *
 * SQLite runs in a temporary data directory; PostgreSQL in a fresh database created (and dropped)
 * on the server named by DATABASE_URL, or postgres://postgres@127.0.0.1:5432/postgres.
 * Prints a table and writes JSON to bench/results/audit-<db>-<date>.json. Stops by itself: the
 * append phase ends at --entries or after --max-minutes, whichever comes first.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PerformanceObserver } from 'node:perf_hooks';
import pg from 'pg';
import { CompactRange, hashLeaf, openCheckpoint, verifyConsistency, verifyInclusion } from '@consilium/crypto';
import { loadConfig } from '../../packages/server/src/config.js';
import { migrateToLatest, openDatabase, type Db } from '../../packages/server/src/db/database.js';
import { loadLogKey, type LogKey } from '../../packages/server/src/audit/signing.js';
import { appendAudit } from '../../packages/server/src/audit/log.js';
import { encodeLeaf, type AuditEvent } from '../../packages/server/src/audit/leaf.js';
import { checkpointLogs, startCheckpointer } from '../../packages/server/src/audit/checkpointer.js';
import { consistencyProof, inclusionProof } from '../../packages/server/src/audit/service.js';
import { originOf } from '../../packages/server/src/audit/signing.js';
import { verifyLog } from '../../packages/server/src/audit/verify.js';
import { indexAllLogs } from '../../packages/server/src/audit/indexer.js';
import { sqlitePath } from '../../packages/server/src/db/database.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    db: { type: 'string', default: 'sqlite' },
    batch: { type: 'string', default: '1000' },
    proofs: { type: 'string', default: '1000' },
    'max-minutes': { type: 'string', default: '60' },
    'single-seconds': { type: 'string', default: '10' },
    quick: { type: 'boolean', default: false },
    /** Print phase boundaries (monotonic µs) to stderr, to cut a --cpu-prof profile by phase. */
    marks: { type: 'boolean', default: false },
  },
});
const ENTRIES = args.quick ? 20_000 : Number(args.entries);
const BATCH = Number(args.batch);
const PROOFS = args.quick ? 200 : Number(args.proofs);
const SINGLE_SECONDS = args.quick ? 3 : Number(args['single-seconds']);
const DEADLINE = Date.now() + Number(args['max-minutes']) * 60_000;
const LOAD_AT_START = loadavg();
const DB = args.db === 'postgres' || args.db === 'pg' ? 'postgres' : 'sqlite';
if (!(ENTRIES > 0 && BATCH > 0 && PROOFS > 0)) throw new Error('--entries, --batch and --proofs must be positive');

/** mulberry32, so runs pick the same proof positions. */
function seededRandom(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * below);
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1)!, mean: s.reduce((x, y) => x + y, 0) / s.length };
};
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
/**
 * The start of a phase: a full garbage collection first, so each phase starts from a collected
 * heap and is not charged for the garbage of the one before (the 1M appends left enough that a
 * major collection ran during the first hundred proofs after them).
 */
const phase = async (name: string) => {
  collectGarbage();
  // What the phase before wrote goes to disk now (as bench/backup does before each operation):
  // otherwise the kernel's writeback of it, due 30 s later, runs on the 2 cores during this phase.
  spawnSync('sync');
  // The collection's concurrent sweeping runs on V8's background threads after it returns: with
  // half a second, 20-30 of the first 1,000 proofs after it were still preempted.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  if (args.marks) process.stderr.write(`mark ${name} ${process.hrtime.bigint() / 1000n}\n`);
};
/** Wall time and this process's CPU time (user + system) since `start`, in seconds. */
const clock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const since = (start: ReturnType<typeof clock>) => {
  const cpu = process.cpuUsage(start.cpu);
  return { wallSeconds: (performance.now() - start.wall) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
};
/**
 * One proof's wall time, and whether the main thread was context-switched during it (it waited
 * for the disk, or another process had the core) or a garbage-collection pause overlapped it. On a
 * shared 2-core VM the slowest percent of proofs are those: the table shows both figures.
 */
interface ProofRun {
  ms: number;
  start: number;
  /** The thread slept in the kernel (a voluntary switch: a read from disk, most likely). */
  waitedForIo: boolean;
  /** The scheduler gave the core to another thread or process. */
  preempted: boolean;
  gc: boolean;
}
/**
 * Context switches of this (the main) thread: /proc/thread-self on Linux, where the proofs run
 * (SQLite is synchronous here); the process's, which also counts V8's and libuv's own threads
 * sleeping and waking, elsewhere.
 */
const threadSwitches = (() => {
  try {
    readFileSync('/proc/thread-self/status', 'utf8');
  } catch {
    return () => {
      const r = process.resourceUsage();
      return { voluntary: r.voluntaryContextSwitches, involuntary: r.involuntaryContextSwitches };
    };
  }
  return () => {
    const m = /voluntary_ctxt_switches:\s+(\d+)\n(?:.*\n)*?nonvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'));
    return { voluntary: Number(m?.[1] ?? 0), involuntary: Number(m?.[2] ?? 0) };
  };
})();
async function timedProof<T>(fn: () => Promise<T>, runs: ProofRun[]): Promise<T> {
  const s0 = threadSwitches();
  const start = performance.now();
  const value = await fn();
  const ms = performance.now() - start;
  const s1 = threadSwitches();
  runs.push({ ms, start, waitedForIo: s1.voluntary > s0.voluntary, preempted: s1.involuntary > s0.involuntary, gc: false });
  return value;
}
const undisturbed = (runs: ProofRun[]) => {
  const calm = runs.filter((r) => !r.waitedForIo && !r.preempted && !r.gc).map((r) => r.ms);
  return { ...stats(calm.length ? calm : [0]), n: calm.length, waitedForIo: runs.filter((r) => r.waitedForIo).length, preempted: runs.filter((r) => r.preempted).length, gc: runs.filter((r) => r.gc).length };
};
const fmt = (n: number, digits = 2) => n.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A sign-in-like event (the most common kind), about the size of a real leaf. */
function makeEvent(organisationId: string, accounts: string[], n: number, at: string): AuditEvent {
  return {
    type: 'auth.sign_in',
    action: 'E',
    outcome: n % 50 === 0 ? 'failure' : 'success',
    at,
    organisationId,
    actor: { accountId: accounts[n % accounts.length]!, role: 'clinician', email: `clinician${n % accounts.length}@hospital.example` },
    onBehalfOf: null,
    caseId: null,
    entity: { type: 'session', id: randomUUID() },
    purposeOfUse: 'HOPERAT',
    networkAddress: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    emergency: false,
    detail: { stage: 'active' },
  };
}

async function freshPostgres(): Promise<{ url: string; size(): Promise<number>; drop(): Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `consilium_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const query = async (text: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return await c.query(text);
    } finally {
      await c.end();
    }
  };
  return {
    url: url.toString(),
    size: async () => Number((await query(`SELECT pg_database_size('${name}') AS s`)).rows[0].s),
    drop: async () => void (await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'consilium-bench-audit-'));
  const pgDb = DB === 'postgres' ? await freshPostgres() : null;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await pgDb?.drop().catch((err: unknown) => console.error('dropping the bench database failed:', err));
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  const config = loadConfig({ dataDir, logLevel: 'silent', publicUrl: 'http://bench.localhost:8080', ...(pgDb && { databaseUrl: pgDb.url }) }, {});
  // The audit log's own modules only (not the whole server), as the CLI's `audit verify` does.
  const database = openDatabase(config);
  await migrateToLatest(database.db);
  const deps: { db: Db; dbKind: 'sqlite' | 'postgres'; auditKey: LogKey } = { db: database.db, dbKind: database.kind, auditKey: loadLogKey(config) };
  const appendInTransaction = (events: AuditEvent[]) => deps.db.transaction().execute((trx) => appendAudit(trx, deps.dbKind, events));
  const results: Record<string, unknown> = {};
  try {
    const organisationId = randomUUID();
    const accounts = Array.from({ length: 500 }, () => randomUUID());
    const t0 = new Date().toISOString();

    let checkpointErrors = 0;
    const checkpointer = startCheckpointer(deps.db, deps.auditKey, () => new Date(), () => checkpointErrors++);

    await phase('single');
    // (a1) One event per transaction, as an action records its entry, for --single-seconds, into
    // a log of its own (the batched phase below builds the big one).
    const singleOrg = randomUUID();
    const singleMs: number[] = [];
    const singleClock = clock();
    for (let n = 0; performance.now() - singleClock.wall < SINGLE_SECONDS * 1000; n++) {
      const events = [makeEvent(singleOrg, accounts, n, new Date().toISOString())];
      const s0 = performance.now();
      await appendInTransaction(events);
      singleMs.push(performance.now() - s0);
      // Let the checkpointer's timer run, as it would between requests.
      if (n % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    }
    const singleTime = since(singleClock);
    results.single = {
      entries: singleMs.length,
      seconds: singleTime.wallSeconds,
      eventsPerSecond: singleMs.length / singleTime.wallSeconds,
      processCpuSeconds: singleTime.cpuSeconds,
      eventsPerProcessCpuSecond: singleMs.length / singleTime.cpuSeconds,
      transactionMs: stats(singleMs),
    };

    await phase('append');
    // (a2) Appends in batches, one transaction each, with the checkpointer signing every second.
    const batchMs: number[] = [];
    let appended = 0;
    let stoppedEarly = false;
    const appendClock = clock();
    const appendStart = appendClock.wall;
    let lastReport = appendStart;
    while (appended < ENTRIES) {
      if (Date.now() > DEADLINE) {
        stoppedEarly = true;
        break;
      }
      const n = Math.min(BATCH, ENTRIES - appended);
      const at = new Date().toISOString();
      const events = Array.from({ length: n }, (_, i) => makeEvent(organisationId, accounts, appended + i, at));
      const b0 = performance.now();
      await appendInTransaction(events);
      batchMs.push(performance.now() - b0);
      appended += n;
      // A server takes each request in its own turn of the event loop; so does this loop, or the
      // checkpointer's timer (and anything else) would never run beside synchronous SQLite calls.
      await new Promise((resolve) => setImmediate(resolve));
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        process.stderr.write(`  appended ${appended.toLocaleString('en-GB')} (${fmt(appended / ((lastReport - appendStart) / 1000), 0)}/s)\n`);
      }
    }
    const appendTime = since(appendClock);
    const appendSeconds = appendTime.wallSeconds;
    await checkpointer.stop();
    const logId = organisationId;
    const checkpoints = await deps.db.selectFrom('audit_checkpoint').select(['size', 'created_at']).where('log_id', '=', logId).orderBy('size').execute();
    const signedAt = checkpoints.map((c) => Date.parse(c.created_at));
    const gaps = signedAt.slice(1).map((t, i) => (t - signedAt[i]!) / 1000);
    const batches = stats(batchMs);
    results.append = {
      entries: appended,
      batchSize: BATCH,
      seconds: appendSeconds,
      eventsPerSecond: appended / appendSeconds,
      processCpuSeconds: appendTime.cpuSeconds,
      eventsPerProcessCpuSecond: appended / appendTime.cpuSeconds,
      batchMs: batches,
      checkpointsSigned: checkpoints.length,
      maxSecondsBetweenCheckpoints: gaps.length ? Math.max(...gaps) : null,
      checkpointErrors,
      stoppedEarly,
    };

    await phase('index');
    // (a3) The search index: appends above ran without the indexer (it follows after each commit,
    // on the same thread in a server); here it indexes the whole log, in its own chunks.
    const indexClock = clock();
    const indexed = await indexAllLogs(deps.db, deps.dbKind);
    const indexTime = since(indexClock);
    results.index = {
      entries: indexed,
      seconds: indexTime.wallSeconds,
      entriesPerSecond: indexed / indexTime.wallSeconds,
      processCpuSeconds: indexTime.cpuSeconds,
      // One thread doing both, as a server does: 1 / (1/append + 1/index).
      sustainedAppendAndIndexPerSecond: 1 / (1 / (appended / appendSeconds) + 1 / (indexed / indexTime.wallSeconds)),
    };

    // (b) Proofs against the latest checkpoint, as clients ask for them, each a fresh read of the
    // tiles it needs (the cache keeps at most 2,048 tiles: a 1M log has 3,900 at level 0).
    await checkpointLogs(deps.db, deps.auditKey, new Date());
    const latest = await deps.db.selectFrom('audit_checkpoint').selectAll().where('log_id', '=', logId).orderBy('size', 'desc').limit(1).executeTakeFirstOrThrow();
    const cp = openCheckpoint(latest.note, [deps.auditKey.verifier], originOf(deps.auditKey, logId)).checkpoint;
    const size = cp.size;
    // The code warmed, not the tiles: 1,000 proofs of this log through this database handle first,
    // so V8 has compiled the proof code (on its background threads, which took a core from
    // whichever proofs ran first: 20-30 of the first 1,000 were preempted, whichever kind they
    // were), then the measured ones through a second handle, whose tile cache and SQLite page
    // cache start empty. A server has long since compiled its code; its caches may be cold.
    const warm = seededRandom(1);
    for (let i = 0; i < 500 && size > 1; i++) {
      await inclusionProof(deps, logId, warm(size), size);
      await consistencyProof(deps, logId, 1 + warm(size - 1), size);
    }
    const measured = openDatabase(config);
    const proofDeps = { db: measured.db };
    await phase('proofs');
    const random = seededRandom(9162);
    const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
    const gcPauses: { start: number; end: number }[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, end: e.startTime + e.duration });
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const inclusionMs: number[] = [];
    const inclusionRuns: ProofRun[] = [];
    let inclusionOk = 0;
    for (let i = 0; i < PROOFS; i++) {
      const index = random(size);
      const p = await timedProof(() => inclusionProof(proofDeps, logId, index, size), inclusionRuns);
      inclusionMs.push(inclusionRuns.at(-1)!.ms);
      if (verifyInclusion(fromB64(p.leafHash), index, size, p.proof.map(fromB64), cp.rootHash)) inclusionOk++;
    }
    const consistencyMs: number[] = [];
    const consistencyRuns: ProofRun[] = [];
    const consistencyProofs: { from: number; proof: Uint8Array[] }[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const from = 1 + random(Math.max(1, size - 1));
      const p = await timedProof(() => consistencyProof(proofDeps, logId, from, size), consistencyRuns);
      consistencyMs.push(consistencyRuns.at(-1)!.ms);
      consistencyProofs.push({ from, proof: p.proof.map(fromB64) });
    }
    // Wait for the last GC entries, then mark each proof that a GC pause overlapped.
    await new Promise((resolve) => setTimeout(resolve, 50));
    gcObserver.disconnect();
    await measured.close();
    for (const run of [...inclusionRuns, ...consistencyRuns]) if (gcPauses.some((g) => g.end > run.start && g.start < run.start + run.ms)) run.gc = true;
    await phase('proof-check');
    // Verify every consistency proof against old roots recomputed in one pass over the leaf hashes.
    const wanted = [...new Set(consistencyProofs.map((c) => c.from))].sort((x, y) => x - y);
    const oldRoots = new Map<number, Uint8Array>();
    let walk = CompactRange.empty();
    for (let next = 0; walk.size < size && next < wanted.length; ) {
      const rows = await deps.db.selectFrom('audit_entry').select('leaf_hash').where('log_id', '=', logId).where('idx', '>=', walk.size).orderBy('idx').limit(10_000).execute();
      for (const r of rows) {
        walk = walk.append(new Uint8Array(r.leaf_hash));
        while (next < wanted.length && wanted[next] === walk.size) oldRoots.set(wanted[next++]!, walk.root());
      }
    }
    const consistencyOk = consistencyProofs.filter((c) => verifyConsistency(c.from, size, c.proof, oldRoots.get(c.from)!, cp.rootHash)).length;
    results.proofs = {
      treeSize: size,
      inclusionMs: stats(inclusionMs),
      inclusionUndisturbed: undisturbed(inclusionRuns),
      inclusionVerified: `${inclusionOk}/${PROOFS}`,
      consistencyMs: stats(consistencyMs),
      consistencyUndisturbed: undisturbed(consistencyRuns),
      consistencyVerified: `${consistencyOk}/${PROOFS}`,
    };

    await phase('verify');
    // (c) audit verify of the whole log.
    const verifyClock = clock();
    const report = await verifyLog(deps.db, deps.auditKey, logId);
    const verifyTime = since(verifyClock);
    const verifySeconds = verifyTime.wallSeconds;
    // (c2) The same with the search index checked against the leaves (`audit verify --index`).
    const withIndexClock = clock();
    const withIndex = await verifyLog(deps.db, deps.auditKey, logId, { index: true });
    const withIndexTime = since(withIndexClock);
    results.verify = {
      entries: report.entries,
      checkpoints: report.checkpoints,
      ok: report.ok,
      problems: report.problems.length,
      seconds: verifySeconds,
      processCpuSeconds: verifyTime.cpuSeconds,
      entriesPerSecond: report.entries / verifySeconds,
      withIndex: { ok: withIndex.ok, problems: withIndex.problems.length, seconds: withIndexTime.wallSeconds, processCpuSeconds: withIndexTime.cpuSeconds },
    };

    await phase('cpu');
    // (d) The CPU part of an append, without a database: canonical JSON, leaf hash, compact range.
    // Measured last: its 200,000 events and their copies left the heap in a state that slowed the
    // appends measured after it by a third (36k/s against 55-65k/s, same build, same machine).
    const cpuN = Math.min(ENTRIES, 200_000);
    const cpuEvents = Array.from({ length: cpuN }, (_, i) => makeEvent(organisationId, accounts, i, t0));
    const leaves = cpuEvents.map((e, i) => encodeLeaf(organisationId, i, e));
    let start = performance.now();
    for (let i = 0; i < cpuN; i++) encodeLeaf(organisationId, i, cpuEvents[i]!);
    const encodeMs = performance.now() - start;
    const utf8 = new TextEncoder();
    start = performance.now();
    const hashes = leaves.map((l) => hashLeaf(utf8.encode(l)));
    const serverHashMs = performance.now() - start;
    start = performance.now();
    for (const l of leaves) {
      const bytes = utf8.encode(l);
      const input = new Uint8Array(1 + bytes.length);
      input.set(bytes, 1);
      nobleSha256(input);
    }
    const nobleMs = performance.now() - start;
    start = performance.now();
    let range = CompactRange.empty();
    for (const h of hashes) range = range.append(h);
    const rangeMs = performance.now() - start;
    const leafBytes = leaves.reduce((n, l) => n + Buffer.byteLength(l), 0) / cpuN;
    results.cpu = {
      events: cpuN,
      meanLeafBytes: Math.round(leafBytes),
      encodeLeafUsPerEvent: (encodeMs * 1000) / cpuN,
      hashLeafUsPerEvent: (serverHashMs * 1000) / cpuN,
      hashLeafNobleUsPerEvent: (nobleMs * 1000) / cpuN,
      compactRangeAppendUsPerEvent: (rangeMs * 1000) / cpuN,
      cpuCeilingEventsPerSecond: cpuN / ((encodeMs + serverHashMs + rangeMs) / 1000),
    };
    cpuEvents.length = 0;
    leaves.length = 0;
    hashes.length = 0;

    await phase('end');
    const dbBytes = pgDb ? await pgDb.size() : ['', '-wal'].map((s) => sqlitePath(config) + s).filter(existsSync).reduce((n, f) => n + statSync(f).size, 0);
    results.database = { kind: deps.dbKind, bytes: dbBytes, bytesPerEntry: dbBytes / appended };

    printTable(results, deps);
    const out = writeResults(results);
    console.log(`\nwrote ${out}`);
  } finally {
    await database.close();
    await cleanup();
  }
}

function printTable(r: Record<string, any>, deps: { dbKind: string }) {
  const a = r.append;
  const p = r.proofs;
  const v = r.verify;
  const c = r.cpu;
  const rows: [string, string, string][] = [
    ['append, one event per transaction (checkpointer on)', `${fmt(r.single.eventsPerSecond, 0)} events/s (${r.single.entries.toLocaleString('en-GB')} in ${fmt(r.single.seconds, 1)} s)`, ''],
    ['  transaction p50 / p99; events per process CPU-s', `${fmt(r.single.transactionMs.p50)} / ${fmt(r.single.transactionMs.p99)} ms; ${fmt(r.single.eventsPerProcessCpuSecond, 0)}`, ''],
    ['append throughput (batches of ' + a.batchSize + ', checkpointer on)', `${fmt(a.eventsPerSecond, 0)} events/s`, '>= 50,000/s'],
    ['  process CPU time for the appends', `${fmt(a.processCpuSeconds, 1)} s of ${fmt(a.seconds, 1)} s wall (${fmt(a.eventsPerProcessCpuSecond, 0)} events per CPU-s)`, ''],
    ['  batch latency p50 / p99', `${fmt(a.batchMs.p50)} / ${fmt(a.batchMs.p99)} ms`, ''],
    ['  checkpoints signed during appends', `${a.checkpointsSigned} in ${fmt(a.seconds, 1)} s, longest gap ${fmt(a.maxSecondsBetweenCheckpoints ?? 0, 1)} s`, 'every <= 1 s'],
    ['search index, built after the appends', `${fmt(r.index.entriesPerSecond, 0)} entries/s (${r.index.entries.toLocaleString('en-GB')} in ${fmt(r.index.seconds, 1)} s)`, ''],
    ['  appends and indexing on one thread, sustained', `${fmt(r.index.sustainedAppendAndIndexPerSecond, 0)} events/s`, ''],
    ['  CPU only: encode + hash + range', `${fmt(c.cpuCeilingEventsPerSecond, 0)} events/s`, ''],
    ['    encodeLeaf / hashLeaf (node:crypto) / range.append', `${fmt(c.encodeLeafUsPerEvent)} / ${fmt(c.hashLeafUsPerEvent)} / ${fmt(c.compactRangeAppendUsPerEvent)} µs`, ''],
    ['    same leaf hash with @noble/hashes (the browser)', `${fmt(c.hashLeafNobleUsPerEvent)} µs`, ''],
    [`inclusion proof p50 / p99 (n=${p.inclusionMs.n}, size ${p.treeSize.toLocaleString('en-GB')})`, `${fmt(p.inclusionMs.p50, 3)} / ${fmt(p.inclusionMs.p99, 3)} ms`, '< 1 ms'],
    [`consistency proof p50 / p99 (n=${p.consistencyMs.n})`, `${fmt(p.consistencyMs.p50, 3)} / ${fmt(p.consistencyMs.p99, 3)} ms`, '< 1 ms'],
    ['  proofs that slept in the kernel / were preempted / met a GC pause', `inclusion ${p.inclusionUndisturbed.waitedForIo} / ${p.inclusionUndisturbed.preempted} / ${p.inclusionUndisturbed.gc}, consistency ${p.consistencyUndisturbed.waitedForIo} / ${p.consistencyUndisturbed.preempted} / ${p.consistencyUndisturbed.gc}`, ''],
    ['  p99 of the others (inclusion / consistency)', `${fmt(p.inclusionUndisturbed.p99, 3)} / ${fmt(p.consistencyUndisturbed.p99, 3)} ms (n=${p.inclusionUndisturbed.n} / ${p.consistencyUndisturbed.n})`, ''],
    ['  proofs verified', `${p.inclusionVerified} inclusion, ${p.consistencyVerified} consistency`, ''],
    [`verifyLog, whole log (${v.entries.toLocaleString('en-GB')} entries)`, `${fmt(v.seconds)} s (${fmt(v.entriesPerSecond, 0)}/s; ${fmt(v.processCpuSeconds, 1)} CPU-s), ok=${v.ok}`, ENTRIES >= 1_000_000 ? '< 10 s for 1M' : `< ${fmt((10 * v.entries) / 1_000_000, 1)} s pro rata`],
    ['verifyLog with the search index checked (--index)', `${fmt(v.withIndex.seconds)} s (${fmt(v.withIndex.processCpuSeconds, 1)} CPU-s), ok=${v.withIndex.ok}`, ''],
    ['database size', `${fmt(r.database.bytes / 2 ** 20, 1)} MiB (${fmt(r.database.bytesPerEntry, 0)} B/entry)`, ''],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  console.log(`\nAudit log benchmark: ${deps.dbKind}, ${a.entries.toLocaleString('en-GB')} entries, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load average ${LOAD_AT_START.map((l) => l.toFixed(1)).join(' ')} at start, ${loadavg().map((l) => l.toFixed(1)).join(' ')} at end`);
  console.log(`${'metric'.padEnd(w0)}  ${'result'.padEnd(w1)}  aim`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(14)}`);
  for (const [m, v2, aim] of rows) console.log(`${m.padEnd(w0)}  ${v2.padEnd(w1)}  ${aim}`);
}

function writeResults(results: Record<string, unknown>): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const file = path.join(dir, `audit-${DB}-${date}.json`);
  const meta = { bench: 'audit', quick: args.quick, singleSeconds: SINGLE_SECONDS, db: DB, date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtStart: LOAD_AT_START, loadAverageAtEnd: loadavg(), requestedEntries: ENTRIES, batch: BATCH, proofs: PROOFS };
  writeFileSync(file, JSON.stringify({ ...meta, results }, null, 2) + '\n');
  return file;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
