import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { CompactRange, hashLeaf, rootFromLeafHashes, verifyConsistency } from '@consilium/crypto/merkle';
import { formatCheckpoint, generateNoteKey, openCheckpoint, parseSignerKey, parseVerifierKey, signNote } from '@consilium/crypto/note';
import { seedOrg, signIn, startTestServer, testPgUrl, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { auditRows, b64, checkpointNow, fromB64, latestCheckpoint, logSize, runCli, storedLeafHashes, verifyOverApi } from '../test-support/audit.js';
import { createDepartment } from '../orgs/service.js';
import type { Actor } from './record.js';
import { originOf } from './signing.js';
import { verifyLog, type VerifyProblem, type VerifyReport } from './verify.js';
import { catchUpIndex } from './indexer.js';

// The tamper tests: build a log of ~40 entries with signed checkpoints along the way, then
// change the database behind the server's back (as a rogue admin with SQL access would) and expect
// `verifyLog`, POST /api/v1/audit/verify and `consilium audit verify` to report it, by index.
// Each scenario gets its own organisation, hence its own log, on one server.

const SIZE = 40;
const utf8 = new TextEncoder();
/** A leaf hash as the entry table stores it. */
const hashBytes = (leaf: string) => Buffer.from(hashLeaf(utf8.encode(leaf)));

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

interface BuiltLog {
  org: SeededOrg;
  admin: TestClient;
  /** Sizes at which signed checkpoints exist, ascending. */
  checkpoints: number[];
}

let logCount = 0;
/** An organisation whose log holds SIZE entries of real actions, checkpointed every 8 entries and at the end. */
async function buildLog(): Promise<BuiltLog> {
  const org = await seedOrg(server, `Tamper Hospital ${++logCount}`);
  const { client: admin } = await signIn(server, org.admin.email);
  const actor: Actor = { accountId: org.admin.id, role: 'admin', organisationId: org.id, ip: '127.0.0.1' };
  for (let i = 1, size = await logSize(server, org.id); size < SIZE; i++) {
    await createDepartment(server.deps, actor, `Ward ${i}`);
    size = await logSize(server, org.id);
    if (size % 8 === 0) await checkpointNow(server);
  }
  await checkpointNow(server);
  const checkpoints = await checkpointSizes(org.id);
  expect(checkpoints.at(-1)).toBe(SIZE);
  expect(checkpoints.length).toBeGreaterThanOrEqual(5);
  await catchUpIndex(server.deps.db, server.deps.dbKind, org.id);
  const clean = await verifyLog(server.deps.db, server.deps.auditKey, org.id, { index: true });
  expect(clean, 'the log verifies before anyone touches it').toMatchObject({ ok: true, entries: SIZE, problems: [] });
  return { org, admin, checkpoints };
}

async function checkpointSizes(logId: string): Promise<number[]> {
  const rows = await server.deps.db.selectFrom('audit_checkpoint').select('size').where('log_id', '=', logId).orderBy('size').execute();
  return rows.map((r) => Number(r.size));
}

const pairs = (problems: readonly Pick<VerifyProblem, 'kind' | 'index'>[]) => problems.map((p) => `${p.kind}@${p.index}`);
/** The same problems in any order (a checkpoint signed by the timer may sit between two row problems). */
const sameProblems = (report: VerifyReport, expected: string[]) => expect([...pairs(report.problems)].sort()).toEqual([...expected].sort());

/**
 * Verifies one log three ways and checks they agree: the library call (in big and small pages), the
 * CLI against the data directory (SQLite only), and the API (last, since it records its own audit.read entry).
 */
async function verifyEverywhere(log: BuiltLog): Promise<VerifyReport> {
  const report = await verifyLog(server.deps.db, server.deps.auditKey, log.org.id, { index: true });
  // Pages of 7 rows, so that holes, problems and checkpoints fall across page edges: the same report.
  const paged = await verifyLog(server.deps.db, server.deps.auditKey, log.org.id, { batchRows: 7, index: true });
  expect(paged).toEqual(report);
  if (!testPgUrl) {
    const cli = await runCli(['audit', 'verify', '--index', '--data-dir', server.deps.config.dataDir, '--log', log.org.id]);
    expect(cli.code, cli.stdout + cli.stderr).toBe(report.ok ? 0 : 1);
    expect(cli.stdout).toContain(`${report.ok ? 'OK' : 'FAILED'}  log ${log.org.id}: ${report.entries} entries`);
    const cliProblems = [...cli.stdout.matchAll(/^ {2}\[([a-z-]+)\] index (\d+): /gm)].map((m) => `${m[1]}@${m[2]}`);
    expect(cliProblems).toEqual(pairs(report.problems));
  }
  const job = await verifyOverApi(log.admin);
  expect(job.state, job.error ?? '').toBe('done');
  expect(job.result).toMatchObject({ logId: log.org.id, ok: report.ok, entries: report.entries });
  expect(pairs(job.result!.problems)).toEqual(pairs(report.problems));
  return report;
}

const firstCheckpointAbove = (log: BuiltLog, index: number) => log.checkpoints.find((s) => s > index)!;
const checkpointsAbove = (log: BuiltLog, index: number) => log.checkpoints.filter((s) => s > index);

async function row(logId: string, idx: number) {
  return server.deps.db.selectFrom('audit_entry').selectAll().where('log_id', '=', logId).where('idx', '=', idx).executeTakeFirstOrThrow();
}

/** The stored leaf of an entry with a field changed, as a rewrite of history would. */
async function rewrittenLeaf(logId: string, idx: number): Promise<string> {
  const leaf = JSON.parse((await row(logId, idx)).leaf);
  expect(leaf.type).toBe('org.department_created');
  leaf.detail.name = 'Ward nobody created';
  return JSON.stringify(leaf);
}

describe('tampering with stored entries is reported by index', () => {
  it('an edited leaf (JSON only): the entry, then every checkpoint above it', async () => {
    const log = await buildLog();
    await server.deps.db.updateTable('audit_entry').set({ leaf: await rewrittenLeaf(log.org.id, 20) }).where('log_id', '=', log.org.id).where('idx', '=', 20).execute();
    const report = await verifyEverywhere(log);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'edited', index: 20 });
    sameProblems(report, ['edited@20', ...checkpointsAbove(log, 20).map((s) => `checkpoint-mismatch@${s}`)]);
  });

  it('an edited leaf with its leaf_hash recomputed: caught by the first signed checkpoint above it', async () => {
    const log = await buildLog();
    const leaf = await rewrittenLeaf(log.org.id, 20);
    await server.deps.db
      .updateTable('audit_entry')
      .set({ leaf, leaf_hash: hashBytes(leaf) })
      .where('log_id', '=', log.org.id)
      .where('idx', '=', 20)
      .execute();
    const report = await verifyEverywhere(log);
    expect(report.ok).toBe(false);
    // The row itself is self-consistent; the signed root names the range (previous checkpoint, this one].
    expect(report.problems[0]).toMatchObject({ kind: 'checkpoint-mismatch', index: firstCheckpointAbove(log, 20) });
    expect(pairs(report.problems)).toEqual(checkpointsAbove(log, 20).map((s) => `checkpoint-mismatch@${s}`));
  });

  it('an entry edited (hash recomputed) before any checkpoint covers it: the next checkpoint, signed from the log head, disagrees', async () => {
    const log = await buildLog();
    const actor: Actor = { accountId: log.org.admin.id, role: 'admin', organisationId: log.org.id, ip: '127.0.0.1' };
    for (const name of ['Tail One', 'Tail Two', 'Tail Three']) await createDepartment(server.deps, actor, name);
    const leaf = await rewrittenLeaf(log.org.id, SIZE + 1);
    await server.deps.db
      .updateTable('audit_entry')
      .set({ leaf, leaf_hash: hashBytes(leaf) })
      .where('log_id', '=', log.org.id)
      .where('idx', '=', SIZE + 1)
      .execute();
    await checkpointNow(server);
    log.checkpoints = await checkpointSizes(log.org.id);
    expect(log.checkpoints.at(-1)).toBe(SIZE + 3);
    const report = await verifyEverywhere(log);
    sameProblems(report, checkpointsAbove(log, SIZE + 1).map((s) => `checkpoint-mismatch@${s}`));
  });

  it('an entry edited (hash recomputed) after the last checkpoint, with none signed since: the log head disagrees', async () => {
    const log = await buildLog();
    const actor: Actor = { accountId: log.org.admin.id, role: 'admin', organisationId: log.org.id, ip: '127.0.0.1' };
    for (const name of ['Tail One', 'Tail Two', 'Tail Three']) await createDepartment(server.deps, actor, name);
    const leaf = await rewrittenLeaf(log.org.id, SIZE + 1);
    await server.deps.db
      .updateTable('audit_entry')
      .set({ leaf, leaf_hash: hashBytes(leaf) })
      .where('log_id', '=', log.org.id)
      .where('idx', '=', SIZE + 1)
      .execute();
    const report = await verifyLog(server.deps.db, server.deps.auditKey, log.org.id);
    // The server's own checkpointer may have signed the new head meanwhile (from the tree before the edit).
    const signedSince = (await checkpointSizes(log.org.id)).at(-1) === SIZE + 3;
    expect(pairs(report.problems)).toEqual([signedSince ? `checkpoint-mismatch@${SIZE + 3}` : `head-mismatch@${SIZE + 3}`]);
  });

  it('an edited search index row (event_type): that entry and nothing else; the tree is untouched', async () => {
    const log = await buildLog();
    await server.deps.db.updateTable('audit_search').set({ event_type: 'audit.read' }).where('log_id', '=', log.org.id).where('idx', '=', 17).execute();
    const report = await verifyEverywhere(log);
    expect(pairs(report.problems)).toEqual(['index-mismatch@17']);
    expect(report.problems[0]!.message).toMatch(/search index row that differs from its signed record/);
    // Without the index check the log itself verifies: the index is derived data outside the tree.
    expect(await verifyLog(server.deps.db, server.deps.auditKey, log.org.id)).toMatchObject({ ok: true });
  });

  it('an edited actor index row (a search by user would miss the entry): the entry', async () => {
    const log = await buildLog();
    await server.deps.db.updateTable('audit_search').set({ actor_account_id: log.org.clinician.id }).where('log_id', '=', log.org.id).where('idx', '=', 9).execute();
    expect(pairs((await verifyEverywhere(log)).problems)).toEqual(['index-mismatch@9']);
  });

  it('a deleted search index row, and one slipped in past the indexed entries: both reported', async () => {
    const log = await buildLog();
    const twelve = await server.deps.db.selectFrom('audit_search').selectAll().where('log_id', '=', log.org.id).where('idx', '=', 12).executeTakeFirstOrThrow();
    await server.deps.db.deleteFrom('audit_search').where('log_id', '=', log.org.id).where('idx', '=', 12).execute();
    await server.deps.db.insertInto('audit_search').values({ ...twelve, idx: 5_000 }).execute();
    const report = await verifyLog(server.deps.db, server.deps.auditKey, log.org.id, { index: true });
    expect(pairs(report.problems)).toEqual(['index-mismatch@12', 'index-mismatch@5000']);
    expect(report.problems[0]!.message).toMatch(/no search index row: searches would not find it/);
  });

  it('a deleted row in the middle: missing at its index', async () => {
    const log = await buildLog();
    await server.deps.db.deleteFrom('audit_entry').where('log_id', '=', log.org.id).where('idx', '=', 21).execute();
    const report = await verifyEverywhere(log);
    expect(report.problems[0]).toMatchObject({ kind: 'missing', index: 21 });
    sameProblems(report, ['missing@21', ...checkpointsAbove(log, 21).map((s) => `checkpoint-mismatch@${s}`)]);
  });

  it('two rows swapped (reordered): both indices', async () => {
    const log = await buildLog();
    const move = (from: number, to: number) =>
      server.deps.db.updateTable('audit_entry').set({ idx: to }).where('log_id', '=', log.org.id).where('idx', '=', from).execute();
    await move(12, -1);
    await move(13, 12);
    await move(-1, 13);
    const report = await verifyEverywhere(log);
    // Checkpoints from size 13 on cover the moved leaves.
    sameProblems(report, ['reordered@12', 'reordered@13', ...checkpointsAbove(log, 12).map((s) => `checkpoint-mismatch@${s}`)]);
    expect(report.problems[0]!.message).toMatch(/record of index 13/);
  });

  it('a row moved to another log: missing in its own log, wrong-log in the other', async () => {
    const a = await buildLog();
    const b = await buildLog();
    await server.deps.db.deleteFrom('audit_entry').where('log_id', '=', b.org.id).where('idx', '=', 30).execute();
    await server.deps.db.updateTable('audit_entry').set({ log_id: b.org.id, idx: 30 }).where('log_id', '=', a.org.id).where('idx', '=', 25).execute();
    const reportA = await verifyEverywhere(a);
    expect(reportA.problems[0]).toMatchObject({ kind: 'missing', index: 25 });
    const reportB = await verifyEverywhere(b);
    expect(reportB.problems[0]).toMatchObject({ kind: 'wrong-log', index: 30 });
    expect(reportB.problems[0]!.message).toContain(a.org.id);
    // Two logs built and each verified four ways (two CLI processes): more than the default 30 s on a busy machine.
  }, 120_000);
});

describe('truncation against signed checkpoints', () => {
  it('the last rows deleted: the checkpoint above the remaining entries is reported, and the head disagrees', async () => {
    const log = await buildLog();
    await server.deps.db.deleteFrom('audit_entry').where('log_id', '=', log.org.id).where('idx', '>=', 35).execute();
    const report = await verifyEverywhere(log);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'truncated', index: SIZE }), expect.objectContaining({ kind: 'head-mismatch', index: 35 })]),
    );
  });

  it('the last rows deleted and the log head rewritten to match: the signed checkpoint still betrays it', async () => {
    const log = await buildLog();
    await server.deps.db.deleteFrom('audit_entry').where('log_id', '=', log.org.id).where('idx', '>=', 35).execute();
    // A consistent-looking head for 35 entries: size and compact range recomputed from the rows left.
    const range = CompactRange.empty().appendAll(await storedLeafHashes(server, log.org.id));
    await server.deps.db
      .updateTable('audit_log_head')
      .set({ size: 35, compact_hashes: JSON.stringify(range.hashes().map(b64)) })
      .where('log_id', '=', log.org.id)
      .execute();
    const report = await verifyLog(server.deps.db, server.deps.auditKey, log.org.id);
    expect(report.ok, JSON.stringify(report)).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'truncated', index: SIZE }));
  });

  it('even with the checkpoints deleted too, a client that kept a checkpoint sees the log shrink', async () => {
    const log = await buildLog();
    const held = await latestCheckpoint(log.admin);
    expect(held.checkpoint.size).toBe(SIZE);
    await server.deps.db.deleteFrom('audit_entry').where('log_id', '=', log.org.id).where('idx', '>=', 35).execute();
    await server.deps.db.deleteFrom('audit_checkpoint').where('log_id', '=', log.org.id).where('size', '>', 32).execute();
    const range = CompactRange.empty().appendAll(await storedLeafHashes(server, log.org.id));
    await server.deps.db
      .updateTable('audit_log_head')
      .set({ size: 35, compact_hashes: JSON.stringify(range.hashes().map(b64)), checkpointed_size: 32 })
      .where('log_id', '=', log.org.id)
      .execute();
    await checkpointNow(server);
    const now = await latestCheckpoint(log.admin);
    // Signed and well-formed, but smaller than what the client already holds, and no proof links them.
    expect(now.checkpoint.size).toBe(35);
    expect(now.checkpoint.size).toBeLessThan(held.checkpoint.size);
    const r = await log.admin.get(`/api/v1/audit/proofs/consistency?from=${held.checkpoint.size}&to=${now.checkpoint.size}`);
    expect(r.status).toBe(400);
  });
});

describe('rows and heads the application never writes', () => {
  it('a row slipped in beyond the log head is reported (it also blocks every later append)', async () => {
    const log = await buildLog();
    const last = await row(log.org.id, SIZE - 1);
    const forged = JSON.stringify({ ...JSON.parse(last.leaf), index: SIZE, detail: { name: 'Slipped in' } });
    await server.deps.db
      .insertInto('audit_entry')
      .values({ ...last, idx: SIZE, leaf: forged, leaf_hash: hashBytes(forged) })
      .execute();
    // Every audited action of the organisation now fails (its entry would take index SIZE)...
    const r = await log.admin.post('/api/v1/org/departments', { name: 'Blocked' });
    expect(r.status).toBeGreaterThanOrEqual(400);
    // ...so verification must point at the row that does not belong.
    const report = await verifyLog(server.deps.db, server.deps.auditKey, log.org.id);
    expect(report.ok, JSON.stringify(report)).toBe(false);
    expect(report.problems.map((p) => p.index)).toContain(SIZE);
  });

  it('a deleted log head: verification reports it, and the CLI still finds the log', async () => {
    const log = await buildLog();
    await server.deps.db.deleteFrom('audit_log_head').where('log_id', '=', log.org.id).execute();
    const report = await verifyLog(server.deps.db, server.deps.auditKey, log.org.id);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'head-mismatch' }));
    if (!testPgUrl) {
      // Without --log the CLI verifies every log; one whose head row is gone must not drop out of sight.
      const cli = await runCli(['audit', 'verify', '--data-dir', server.deps.config.dataDir]);
      expect(cli.code).toBe(1);
      expect(cli.stdout).toContain(`FAILED  log ${log.org.id}`);
    }
  });
});

describe('forged checkpoints', () => {
  async function replaceNote(logId: string, size: number, note: string) {
    await server.deps.db.updateTable('audit_checkpoint').set({ note }).where('log_id', '=', logId).where('size', '=', size).execute();
  }

  it('a note with a flipped signature byte fails its signature check', async () => {
    const log = await buildLog();
    const { note } = await server.deps.db.selectFrom('audit_checkpoint').select('note').where('log_id', '=', log.org.id).where('size', '=', 24).executeTakeFirstOrThrow();
    const lines = note.split('\n');
    const sigLine = lines.findIndex((l) => l.startsWith('\u2014 '));
    const [dash, name, sig] = lines[sigLine]!.split(' ');
    const bytes = fromB64(sig!);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    lines[sigLine] = `${dash} ${name} ${b64(bytes)}`;
    await replaceNote(log.org.id, 24, lines.join('\n'));
    expect(pairs((await verifyEverywhere(log)).problems)).toEqual(['checkpoint-signature@24']);
  });

  it("a checkpoint re-signed by another key with the log key's name fails, whatever root it claims", async () => {
    const log = await buildLog();
    const attacker = parseSignerKey(generateNoteKey(server.deps.auditKey.name).signerKey);
    const leaves = await storedLeafHashes(server, log.org.id);
    const origin = originOf(server.deps.auditKey, log.org.id);
    // Same size, the true root even: only the signature is wrong.
    await replaceNote(log.org.id, 32, signNote(formatCheckpoint({ origin, size: 32, rootHash: rootFromLeafHashes(leaves.slice(0, 32)), extensions: [] }), [attacker]));
    const report = await verifyEverywhere(log);
    expect(pairs(report.problems)).toEqual(['checkpoint-signature@32']);
    expect(report.problems[0]!.message).toMatch(/no verifiable signatures/);
  });

  it('a validly signed checkpoint of another log passed off as this one fails (origin)', async () => {
    const a = await buildLog();
    const b = await buildLog();
    const { note } = await server.deps.db.selectFrom('audit_checkpoint').select('note').where('log_id', '=', b.org.id).where('size', '=', 16).executeTakeFirstOrThrow();
    await replaceNote(a.org.id, 16, note);
    expect(pairs((await verifyEverywhere(a)).problems)).toEqual(['checkpoint-signature@16']);
  });

  it('a stored root_hash column that differs from the signed note is a mismatch', async () => {
    const log = await buildLog();
    await server.deps.db.updateTable('audit_checkpoint').set({ root_hash: b64(new Uint8Array(32)) }).where('log_id', '=', log.org.id).where('size', '=', 8).execute();
    expect(pairs((await verifyEverywhere(log)).problems)).toEqual(['checkpoint-mismatch@8']);
  });
});

describe('a forked log', () => {
  it('two signed checkpoints for the same size with different roots cannot both be consistent with one history', async () => {
    const log = await buildLog();
    const held = await latestCheckpoint(log.admin); // the client's checkpoint A at size n
    const n = held.checkpoint.size;

    // The server (holding the log key) rewrites entry 20 and fixes up hashes and head: history B.
    const leaf = await rewrittenLeaf(log.org.id, 20);
    await server.deps.db.updateTable('audit_entry').set({ leaf, leaf_hash: hashBytes(leaf) }).where('log_id', '=', log.org.id).where('idx', '=', 20).execute();
    const forkedLeaves = await storedLeafHashes(server, log.org.id);
    const forkedRootAtN = rootFromLeafHashes(forkedLeaves);
    const forkedRange = CompactRange.empty().appendAll(forkedLeaves);
    await server.deps.db
      .updateTable('audit_log_head')
      .set({ compact_hashes: JSON.stringify(forkedRange.hashes().map(b64)) })
      .where('log_id', '=', log.org.id)
      .execute();

    // Checkpoint B at the same size: validly signed by the log key, a different root.
    const origin = originOf(server.deps.auditKey, log.org.id);
    const noteB = signNote(formatCheckpoint({ origin, size: n, rootHash: forkedRootAtN, extensions: [] }), [server.deps.auditKey.signer]);
    const b = openCheckpoint(noteB, [parseVerifierKey(held.verifierKey)], origin).checkpoint;
    expect(b.size).toBe(n);
    expect(b64(b.rootHash)).not.toBe(b64(held.checkpoint.rootHash));
    expect(verifyConsistency(n, n, [], held.checkpoint.rootHash, b.rootHash)).toBe(false);

    // The forked log grows and the server signs a new head over history B.
    const actor: Actor = { accountId: log.org.admin.id, role: 'admin', organisationId: log.org.id, ip: '127.0.0.1' };
    for (const name of ['Fork One', 'Fork Two', 'Fork Three']) await createDepartment(server.deps, actor, name);
    await checkpointNow(server);
    const next = await latestCheckpoint(log.admin);
    expect(next.checkpoint.size).toBeGreaterThan(n);
    expect(b64(next.checkpoint.rootHash)).toBe(b64(rootFromLeafHashes(await storedLeafHashes(server, log.org.id))));

    // The client asks how its checkpoint A grew into the new head; the server's best proof fails.
    const r = await log.admin.get(`/api/v1/audit/proofs/consistency?from=${n}&to=${next.checkpoint.size}`);
    expect(r.status).toBe(200);
    const proof = (r.body.proof as string[]).map(fromB64);
    expect(verifyConsistency(n, next.checkpoint.size, proof, held.checkpoint.rootHash, next.checkpoint.rootHash)).toBe(false);
    // Whereas a client that was shown B all along would be satisfied: the fork is only visible by comparing.
    expect(verifyConsistency(n, next.checkpoint.size, proof, forkedRootAtN, next.checkpoint.rootHash)).toBe(true);

    // And the stored history still carries the honest checkpoint A, which verification holds against B.
    const report = await verifyLog(server.deps.db, server.deps.auditKey, log.org.id);
    expect(report.problems[0]).toMatchObject({ kind: 'checkpoint-mismatch', index: firstCheckpointAbove(log, 20) });
  });
});

describe('changes the log does not make', () => {
  it('an untouched log verifies everywhere; a raw SQL no-op rewrite of every row changes nothing', async () => {
    const log = await buildLog();
    await sql`update audit_entry set leaf = leaf where log_id = ${log.org.id}`.execute(server.deps.db);
    const report = await verifyEverywhere(log);
    expect(report).toMatchObject({ ok: true, entries: SIZE, problems: [] });
    // Plus the entry the API's verification recorded of itself.
    expect((await auditRows(server, log.org.id)).map((r) => JSON.parse(r.leaf).type).at(-1)).toBe('audit.read');
    expect(await logSize(server, log.org.id)).toBe(SIZE + 1);
  });
});
