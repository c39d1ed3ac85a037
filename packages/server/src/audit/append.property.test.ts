import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { CompactRange, hashLeaf, verifyConsistency, verifyInclusion } from '@consilium/crypto/merkle';
import { openCheckpoint } from '@consilium/crypto/note';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import { b64, checkpointNow, fromB64, storedLeafHashes, syntheticEvent } from '../test-support/audit.js';
import { createOrganisation } from '../orgs/service.js';
import { inTransaction } from '../deps.js';
import { decodeLeaf, encodeLeaf, type AuditEvent } from './leaf.js';
import { logIdFor, rangeOf } from './log.js';
import { recordAudit } from './record.js';
import { consistencyProof, inclusionProof } from './service.js';
import { originOf } from './signing.js';
import { verifyLog } from './verify.js';

// Random batches of appends through the real append path (recordAudit -> appendAudit, in database
// transactions, some concurrent, some rolled back) on a real database. After each batch, proofs
// the server makes for random entries and sizes must verify against roots the test recomputes
// from its own model of what was committed. Replay a failure with CONSILIUM_PROPERTY_SEED.

const SEED = Number(process.env.CONSILIUM_PROPERTY_SEED ?? 20261123);
const ROUNDS = 30;
const PROOFS_PER_LOG = 5;

/** mulberry32: a seeded generator, so a failing case can be replayed. */
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

const utf8 = new TextEncoder();
let server: TestServer;
/** Organisation ids (null: the deployment log) whose logs the test appends to. */
let owners: (string | null)[];

/** What the test believes each log holds: leaf hashes, and the compact range after each prefix. */
class LogModel {
  leaves: Uint8Array[] = [];
  ranges: CompactRange[] = [CompactRange.empty()];
  append(leafHash: Uint8Array) {
    this.leaves.push(leafHash);
    this.ranges.push(this.ranges.at(-1)!.append(leafHash));
  }
  root(size: number): Uint8Array {
    return this.ranges[size]!.root();
  }
  get size() {
    return this.leaves.length;
  }
}
const models = new Map<string, LogModel>();

beforeAll(async () => {
  server = await startTestServer();
  const a = await createOrganisation(server.deps, 'Property Hospital');
  const b = await createOrganisation(server.deps, 'Property Clinic');
  owners = [a.id, b.id, null];
  // Start from what is stored (org.created entries).
  for (const owner of owners) {
    const model = new LogModel();
    for (const h of await storedLeafHashes(server, logIdFor(owner))) model.append(h);
    models.set(logIdFor(owner), model);
  }
});
afterAll(() => server?.stop());

interface PlannedTx {
  id: string;
  /** Each inner array is one recordAudit call. */
  calls: AuditEvent[][];
  rollBack: boolean;
}

function planRound(random: (below: number) => number, round: number): PlannedTx[] {
  const txCount = 1 + random(4);
  const txs: PlannedTx[] = [];
  for (let t = 0; t < txCount; t++) {
    const id = `r${round}t${t}`;
    // Mostly small batches, now and then a large one that crosses the 256/1024-leaf thresholds.
    const callSizes = Array.from({ length: 1 + random(3) }, () => (random(10) === 0 ? 200 + random(600) : 1 + random(12)));
    // Each transaction takes the log heads in one order (by log id), as concurrent writers must to
    // avoid deadlocks on PostgreSQL; the opposite-order case has its own test below.
    const logs = Array.from({ length: callSizes.reduce((x, y) => x + y, 0) }, () => owners[random(owners.length)]!).sort((x, y) =>
      logIdFor(x) < logIdFor(y) ? -1 : logIdFor(x) > logIdFor(y) ? 1 : 0,
    );
    const at = server.clock.now().toISOString();
    const events = logs.map((owner, seq) => syntheticEvent(owner, seq, at, { detail: { tx: id, seq, r: random(1000) } }));
    const calls: AuditEvent[][] = [];
    for (const n of callSizes) calls.push(events.splice(0, n));
    txs.push({ id, calls, rollBack: random(6) === 0 });
  }
  return txs;
}

async function runTx(tx: PlannedTx): Promise<void> {
  await inTransaction(server.deps, async (t) => {
    for (const events of tx.calls) await recordAudit(t, ...events);
    if (tx.rollBack) throw new Error(`planned rollback of ${tx.id}`);
  });
}

/** Reads what the round appended, checks it against the plan, and extends the models. */
async function absorbRound(txs: PlannedTx[]) {
  const committed = new Set(txs.filter((t) => !t.rollBack).map((t) => t.id));
  for (const owner of owners) {
    const logId = logIdFor(owner);
    const model = models.get(logId)!;
    const rows = await server.deps.db.selectFrom('audit_entry').select(['idx', 'leaf', 'leaf_hash']).where('log_id', '=', logId).where('idx', '>=', model.size).orderBy('idx').execute();
    const expected = txs
      .filter((t) => committed.has(t.id))
      .flatMap((t) => t.calls.flat().filter((e) => e.organisationId === owner).map((e) => ({ tx: t.id, event: e })));
    expect(rows.length, `log ${logId}: rows appended this round`).toBe(expected.length);
    // Each committed transaction's entries sit together, in the order it appended them.
    const blocks: string[] = [];
    const seen = new Map<string, number>();
    for (const row of rows) {
      const idx = model.size;
      expect(Number(row.idx)).toBe(idx);
      const leaf = decodeLeaf(row.leaf);
      const txId = String(leaf.detail.tx);
      expect(committed.has(txId), `entry ${idx} comes from a committed transaction`).toBe(true);
      if (blocks.at(-1) !== txId) {
        expect(blocks, `transaction ${txId} is one contiguous block in log ${logId}`).not.toContain(txId);
        blocks.push(txId);
      }
      const planned = expected.filter((x) => x.tx === txId).map((x) => x.event);
      const k = seen.get(txId) ?? 0;
      seen.set(txId, k + 1);
      const { index: _index, v: _v, log: _log, ...stored } = leaf;
      expect(stored).toEqual(planned[k]);
      expect(row.leaf).toBe(encodeLeaf(logId, idx, planned[k]!));
      const leafHash = hashLeaf(utf8.encode(row.leaf));
      expect(b64(row.leaf_hash)).toBe(b64(leafHash));
      model.append(leafHash);
    }
    // The head's compact range is the model's.
    const head = await server.deps.db.selectFrom('audit_log_head').selectAll().where('log_id', '=', logId).executeTakeFirstOrThrow();
    expect(Number(head.size)).toBe(model.size);
    expect(b64(rangeOf(head).root())).toBe(b64(model.root(model.size)));
  }
}

async function checkProofs(random: (below: number) => number) {
  for (const owner of owners) {
    const logId = logIdFor(owner);
    const model = models.get(logId)!;
    const n = model.size;
    for (let i = 0; i < PROOFS_PER_LOG; i++) {
      const size = random(2) === 0 ? n : 1 + random(n);
      const index = random(size);
      const p = await inclusionProof(server.deps, logId, index, size);
      expect(p.leafHash).toBe(b64(model.leaves[index]!));
      expect(verifyInclusion(model.leaves[index]!, index, size, p.proof.map(fromB64), model.root(size)), `${logId} inclusion ${index} in ${size}`).toBe(true);

      const from = 1 + random(n);
      const to = random(2) === 0 ? n : from + random(n - from + 1);
      const c = await consistencyProof(server.deps, logId, from, to);
      expect(verifyConsistency(from, to, c.proof.map(fromB64), model.root(from), model.root(to)), `${logId} consistency ${from} -> ${to}`).toBe(true);
    }
  }
}

async function checkCheckpoints() {
  await checkpointNow(server);
  for (const owner of owners) {
    const logId = logIdFor(owner);
    const cp = await server.deps.db.selectFrom('audit_checkpoint').selectAll().where('log_id', '=', logId).orderBy('size', 'desc').limit(1).executeTakeFirstOrThrow();
    const opened = openCheckpoint(cp.note, [server.deps.auditKey.verifier], originOf(server.deps.auditKey, logId)).checkpoint;
    expect(opened.size).toBe(models.get(logId)!.size);
    expect(b64(opened.rootHash)).toBe(b64(models.get(logId)!.root(opened.size)));
  }
}

describe(`random appends (seed ${SEED})`, () => {
  it('after every batch, inclusion and consistency proofs verify against recomputed roots', async () => {
    const random = seededRandom(SEED);
    let rolledBack = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const txs = planRound(random, round);
      // The transactions of a round run at once: on PostgreSQL they contend for the log heads.
      const results = await Promise.allSettled(txs.map(runTx));
      results.forEach((r, i) => {
        if (txs[i]!.rollBack) {
          expect(r.status).toBe('rejected');
          rolledBack++;
        } else expect(r.status === 'fulfilled' ? 'fulfilled' : String((r as PromiseRejectedResult).reason), `transaction ${txs[i]!.id}`).toBe('fulfilled');
      });
      await absorbRound(txs);
      await checkProofs(random);
      if (round % 5 === 4) await checkCheckpoints();
      server.clock.advance(1);
    }
    expect(rolledBack).toBeGreaterThan(0);
    for (const owner of owners) expect(models.get(logIdFor(owner))!.size).toBeGreaterThan(1100);
    await checkCheckpoints();
    for (const owner of owners) {
      const report = await verifyLog(server.deps.db, server.deps.auditKey, logIdFor(owner));
      expect(report, logIdFor(owner)).toMatchObject({ ok: true, entries: models.get(logIdFor(owner))!.size });
    }
  }, 180_000);

  it('transactions appending to the same two logs in opposite orders, concurrently, all commit (no deadlock)', async () => {
    const [a, b] = owners as [string, string, null];
    const at = server.clock.now().toISOString();
    // Open the pool's connections first, so the transactions below really start together.
    await Promise.all(Array.from({ length: 10 }, () => inTransaction(server.deps, (t) => sql`select 1`.execute(t.db))));
    const pair = (i: number) => [
      inTransaction(server.deps, (t) => recordAudit(t, syntheticEvent(a, i, at), syntheticEvent(b, i, at))),
      inTransaction(server.deps, (t) => recordAudit(t, syntheticEvent(b, i, at), syntheticEvent(a, i, at))),
    ];
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => pair(i)).flat());
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
    expect(failures).toEqual([]);
    for (const owner of [a, b]) {
      const report = await verifyLog(server.deps.db, server.deps.auditKey, logIdFor(owner));
      expect(report.ok).toBe(true);
    }
  });

  it('one transaction may append thousands of events (a bulk action)', async () => {
    const org = await createOrganisation(server.deps, 'Bulk Hospital');
    const at = server.clock.now().toISOString();
    const events = Array.from({ length: 7000 }, (_, i) => syntheticEvent(org.id, i, at));
    await recordAudit(server.deps, ...events);
    const leaves = await storedLeafHashes(server, org.id);
    expect(leaves).toHaveLength(7001);
    const model = new LogModel();
    for (const h of leaves) model.append(h);
    const p = await inclusionProof(server.deps, org.id, 4321, 7001);
    expect(verifyInclusion(leaves[4321]!, 4321, 7001, p.proof.map(fromB64), model.root(7001))).toBe(true);
  });
});

