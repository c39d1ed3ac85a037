/**
 * Audit log benchmark (issue 4): append throughput with the checkpointer running, proof generation
 * time with a warm subtree cache, and `audit verify` time for the whole log.
 *
 *   npx tsx bench/audit/run.ts [--entries 1000000] [--db sqlite|postgres] [--batch 1000]
 *                              [--proofs 1000] [--max-minutes 60]
 *
 * SQLite runs in a temporary data directory; PostgreSQL in a fresh database created (and dropped)
 * on the server named by DATABASE_URL, or postgres://postgres@127.0.0.1:5432/postgres.
 * Prints a table and writes JSON to bench/results/audit-<db>-<date>.json. Stops by itself: the
 * append phase ends at --entries or after --max-minutes, whichever comes first.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CompactRange, hashLeaf, openCheckpoint, verifyConsistency, verifyInclusion } from '@consilium/crypto';
import { loadConfig } from '../../packages/server/src/config.js';
import { openDeps } from '../../packages/server/src/server.js';
import { inTransaction, type Deps } from '../../packages/server/src/deps.js';
import { appendAudit } from '../../packages/server/src/audit/log.js';
import { encodeLeaf, type AuditEvent } from '../../packages/server/src/audit/leaf.js';
import { checkpointLogs, startCheckpointer } from '../../packages/server/src/audit/checkpointer.js';
import { consistencyProof, inclusionProof } from '../../packages/server/src/audit/service.js';
import { originOf } from '../../packages/server/src/audit/signing.js';
import { verifyLog } from '../../packages/server/src/audit/verify.js';
import { sqlitePath } from '../../packages/server/src/db/database.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    db: { type: 'string', default: 'sqlite' },
    batch: { type: 'string', default: '1000' },
    proofs: { type: 'string', default: '1000' },
    'max-minutes': { type: 'string', default: '60' },
    /** Print phase boundaries (monotonic µs) to stderr, to cut a --cpu-prof profile by phase. */
    marks: { type: 'boolean', default: false },
  },
});
const ENTRIES = Number(args.entries);
const BATCH = Number(args.batch);
const PROOFS = Number(args.proofs);
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
const mark = (phase: string) => {
  if (args.marks) process.stderr.write(`mark ${phase} ${process.hrtime.bigint() / 1000n}\n`);
};
/** Wall time and this process's CPU time (user + system) since `start`, in seconds. */
const clock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const since = (start: ReturnType<typeof clock>) => {
  const cpu = process.cpuUsage(start.cpu);
  return { wallSeconds: (performance.now() - start.wall) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
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
  const { deps, database } = await openDeps(config);
  const results: Record<string, unknown> = {};
  try {
    const organisationId = randomUUID();
    const accounts = Array.from({ length: 500 }, () => randomUUID());
    const t0 = new Date().toISOString();

    mark('cpu');
    // (a0) The CPU part of an append, without a database: canonical JSON, leaf hash, compact range.
    const cpuN = Math.min(ENTRIES, 200_000);
    const cpuEvents = Array.from({ length: cpuN }, (_, i) => makeEvent(organisationId, accounts, i, t0));
    const leaves = cpuEvents.map((e, i) => encodeLeaf(organisationId, i, e));
    let start = performance.now();
    for (let i = 0; i < cpuN; i++) encodeLeaf(organisationId, i, cpuEvents[i]!);
    const encodeMs = performance.now() - start;
    const utf8 = new TextEncoder();
    start = performance.now();
    const hashes = leaves.map((l) => hashLeaf(utf8.encode(l)));
    const nobleMs = performance.now() - start;
    start = performance.now();
    for (const l of leaves) createHash('sha256').update(Buffer.from([0])).update(l).digest();
    const nodeHashMs = performance.now() - start;
    start = performance.now();
    let range = CompactRange.empty();
    for (const h of hashes) range = range.append(h);
    const rangeMs = performance.now() - start;
    const leafBytes = leaves.reduce((n, l) => n + Buffer.byteLength(l), 0) / cpuN;
    results.cpu = {
      events: cpuN,
      meanLeafBytes: Math.round(leafBytes),
      encodeLeafUsPerEvent: (encodeMs * 1000) / cpuN,
      hashLeafNobleUsPerEvent: (nobleMs * 1000) / cpuN,
      hashLeafNodeCryptoUsPerEvent: (nodeHashMs * 1000) / cpuN,
      compactRangeAppendUsPerEvent: (rangeMs * 1000) / cpuN,
      cpuCeilingEventsPerSecond: cpuN / ((encodeMs + nobleMs + rangeMs) / 1000),
    };
    cpuEvents.length = 0;
    leaves.length = 0;
    hashes.length = 0;

    mark('append');
    // (a) Appends in batches, one transaction each, with the checkpointer signing every second.
    let checkpointErrors = 0;
    const checkpointer = startCheckpointer(deps.db, deps.auditKey, () => new Date(), () => checkpointErrors++);
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
      await inTransaction(deps, (tx) => appendAudit(tx.db, tx.dbKind, events));
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

    mark('warmup');
    // (b) Proofs against the latest checkpoint, as clients ask for them.
    await checkpointLogs(deps.db, deps.auditKey, new Date());
    const latest = await deps.db.selectFrom('audit_checkpoint').selectAll().where('log_id', '=', logId).orderBy('size', 'desc').limit(1).executeTakeFirstOrThrow();
    const cp = openCheckpoint(latest.note, [deps.auditKey.verifier], originOf(deps.auditKey, logId)).checkpoint;
    const size = cp.size;
    const random = seededRandom(9162);
    // Warm the subtree cache: one proof per 256-leaf block reaches every cacheable perfect subtree.
    const warmStart = performance.now();
    let warmProofs = 0;
    for (let index = 0; index < size; index += 256, warmProofs++) await inclusionProof(deps, logId, index, size);
    const warmSeconds = (performance.now() - warmStart) / 1000;
    const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
    mark('proofs');
    const inclusionMs: number[] = [];
    let inclusionOk = 0;
    for (let i = 0; i < PROOFS; i++) {
      const index = random(size);
      const p0 = performance.now();
      const p = await inclusionProof(deps, logId, index, size);
      inclusionMs.push(performance.now() - p0);
      if (verifyInclusion(fromB64(p.leafHash), index, size, p.proof.map(fromB64), cp.rootHash)) inclusionOk++;
    }
    const consistencyMs: number[] = [];
    const consistencyProofs: { from: number; proof: Uint8Array[] }[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const from = 1 + random(Math.max(1, size - 1));
      const p0 = performance.now();
      const p = await consistencyProof(deps, logId, from, size);
      consistencyMs.push(performance.now() - p0);
      consistencyProofs.push({ from, proof: p.proof.map(fromB64) });
    }
    mark('proof-check');
    // Verify every consistency proof against old roots recomputed in one pass over the leaf hashes.
    const wanted = [...new Set(consistencyProofs.map((c) => c.from))].sort((x, y) => x - y);
    const oldRoots = new Map<number, Uint8Array>();
    let walk = CompactRange.empty();
    for (let next = 0; walk.size < size && next < wanted.length; ) {
      const rows = await deps.db.selectFrom('audit_entry').select('leaf_hash').where('log_id', '=', logId).where('idx', '>=', walk.size).orderBy('idx').limit(10_000).execute();
      for (const r of rows) {
        walk = walk.append(fromB64(r.leaf_hash));
        while (next < wanted.length && wanted[next] === walk.size) oldRoots.set(wanted[next++]!, walk.root());
      }
    }
    const consistencyOk = consistencyProofs.filter((c) => verifyConsistency(c.from, size, c.proof, oldRoots.get(c.from)!, cp.rootHash)).length;
    results.proofs = {
      treeSize: size,
      warmup: { proofs: warmProofs, seconds: warmSeconds, msPerProof: (warmSeconds * 1000) / warmProofs },
      inclusionMs: stats(inclusionMs),
      inclusionVerified: `${inclusionOk}/${PROOFS}`,
      consistencyMs: stats(consistencyMs),
      consistencyVerified: `${consistencyOk}/${PROOFS}`,
    };

    mark('verify');
    // (c) audit verify of the whole log.
    const verifyClock = clock();
    const report = await verifyLog(deps.db, deps.auditKey, logId);
    const verifyTime = since(verifyClock);
    const verifySeconds = verifyTime.wallSeconds;
    results.verify = {
      entries: report.entries,
      checkpoints: report.checkpoints,
      ok: report.ok,
      problems: report.problems.length,
      seconds: verifySeconds,
      processCpuSeconds: verifyTime.cpuSeconds,
      entriesPerSecond: report.entries / verifySeconds,
    };

    mark('end');
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

function printTable(r: Record<string, any>, deps: Deps) {
  const a = r.append;
  const p = r.proofs;
  const v = r.verify;
  const c = r.cpu;
  const rows: [string, string, string][] = [
    ['append throughput (batches of ' + a.batchSize + ', checkpointer on)', `${fmt(a.eventsPerSecond, 0)} events/s`, '>= 50,000/s'],
    ['  process CPU time for the appends', `${fmt(a.processCpuSeconds, 1)} s of ${fmt(a.seconds, 1)} s wall (${fmt(a.eventsPerProcessCpuSecond, 0)} events per CPU-s)`, ''],
    ['  batch latency p50 / p99', `${fmt(a.batchMs.p50)} / ${fmt(a.batchMs.p99)} ms`, ''],
    ['  checkpoints signed during appends', `${a.checkpointsSigned} in ${fmt(a.seconds, 1)} s, longest gap ${fmt(a.maxSecondsBetweenCheckpoints ?? 0, 1)} s`, 'every <= 1 s'],
    ['  CPU only: encode + hash + range', `${fmt(c.cpuCeilingEventsPerSecond, 0)} events/s`, ''],
    ['    encodeLeaf / hashLeaf (noble) / range.append', `${fmt(c.encodeLeafUsPerEvent)} / ${fmt(c.hashLeafNobleUsPerEvent)} / ${fmt(c.compactRangeAppendUsPerEvent)} µs`, ''],
    ['    same leaf hash with node:crypto', `${fmt(c.hashLeafNodeCryptoUsPerEvent)} µs`, ''],
    [`inclusion proof p50 / p99 (n=${p.inclusionMs.n}, size ${p.treeSize.toLocaleString('en-GB')})`, `${fmt(p.inclusionMs.p50, 3)} / ${fmt(p.inclusionMs.p99, 3)} ms`, '< 1 ms'],
    [`consistency proof p50 / p99 (n=${p.consistencyMs.n})`, `${fmt(p.consistencyMs.p50, 3)} / ${fmt(p.consistencyMs.p99, 3)} ms`, '< 1 ms'],
    ['  cache warm-up (one proof per 256 leaves)', `${p.warmup.proofs} proofs, ${fmt(p.warmup.msPerProof, 3)} ms each`, ''],
    ['  proofs verified', `${p.inclusionVerified} inclusion, ${p.consistencyVerified} consistency`, ''],
    [`verifyLog, whole log (${v.entries.toLocaleString('en-GB')} entries)`, `${fmt(v.seconds)} s (${fmt(v.entriesPerSecond, 0)}/s; ${fmt(v.processCpuSeconds, 1)} CPU-s), ok=${v.ok}`, ENTRIES >= 1_000_000 ? '< 10 s for 1M' : `< ${fmt((10 * v.entries) / 1_000_000, 1)} s pro rata`],
    ['database size', `${fmt(r.database.bytes / 2 ** 20, 1)} MiB (${fmt(r.database.bytesPerEntry, 0)} B/entry)`, ''],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  console.log(`\nAudit log benchmark: ${deps.dbKind}, ${a.entries.toLocaleString('en-GB')} entries, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load average ${LOAD_AT_START.map((l) => l.toFixed(1)).join(' ')} at start`);
  console.log(`${'metric'.padEnd(w0)}  ${'result'.padEnd(w1)}  aim`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(14)}`);
  for (const [m, v2, aim] of rows) console.log(`${m.padEnd(w0)}  ${v2.padEnd(w1)}  ${aim}`);
}

function writeResults(results: Record<string, unknown>): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const file = path.join(dir, `audit-${DB}-${date}.json`);
  const meta = { bench: 'audit', db: DB, date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtStart: LOAD_AT_START, loadAverageAtEnd: loadavg(), requestedEntries: ENTRIES, batch: BATCH, proofs: PROOFS };
  writeFileSync(file, JSON.stringify({ ...meta, results }, null, 2) + '\n');
  return file;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
