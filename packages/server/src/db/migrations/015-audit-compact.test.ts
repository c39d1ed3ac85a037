import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { CompactRange, hashLeaf, rootFromLeafHashes } from '@consilium/crypto';
import { migrateTo, migrateToLatest, openDatabase, type Database } from '../database.js';
import { checkpointLogs } from '../../audit/checkpointer.js';
import { catchUpIndex } from '../../audit/indexer.js';
import { encodeLeaf, type AuditEvent } from '../../audit/leaf.js';
import { appendAudit, DEPLOYMENT_LOG } from '../../audit/log.js';
import { loadLogKey, type LogKey } from '../../audit/signing.js';
import { verifyLog } from '../../audit/verify.js';
import { syntheticEvent } from '../../test-support/audit.js';

/**
 * Migration 015-audit-compact on a database filled in the layout before it (migrations 002-audit
 * and 008-audit-perf): entries with base64 leaf hashes and their search columns in one table.
 * The rows must come out in the new tables exactly, and the log must still verify against the
 * checkpoints signed before the upgrade, and grow after it.
 */

const utf8 = new TextEncoder();
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
/** PostgreSQL runs when CONSILIUM_TEST_PG holds a URL to a server where we may CREATE DATABASE. */
const pgAdminUrl = process.env.CONSILIUM_TEST_PG;

const ORG = 'org-7f3a';
/** Past the SQLite copy's 2,000-row pages, and not a whole number of 256-leaf tiles. */
const ORG_ENTRIES = 2_100;
/** Entries appended after the upgrade: they complete the tile the migrated entries left partial. */
const APPENDED = 256 - (ORG_ENTRIES % 256);
const PARTIAL_TILE = Math.floor(ORG_ENTRIES / 256);
const DEPLOYMENT_ENTRIES = 3;
const START = Date.parse('2026-06-01T08:00:00.000Z');

/** A row of audit_entry as migrations 002 and 008 left it. */
interface OldEntryRow {
  log_id: string;
  idx: number;
  at: string;
  event_type: string;
  outcome: string;
  organisation_id: string | null;
  actor_account_id: string | null;
  case_id: string | null;
  leaf: string;
  leaf_hash: string;
}

/** Event n of a log: some with an actor account, some with a case, some with text beyond ASCII. */
function eventOf(organisationId: string | null, n: number): AuditEvent {
  const base = syntheticEvent(organisationId, n, new Date(START + n * 1_000).toISOString());
  return {
    ...base,
    actor: { ...base.actor, accountId: n % 3 === 0 ? `acct-${n % 5}` : null },
    caseId: n % 4 === 1 ? `case-${n % 9}` : null,
    detail: n % 10 === 0 ? { ...base.detail, note: `Zoë "Ø" \\ 患者 ${n} 🩺` } : base.detail,
  };
}

function oldRowOf(logId: string, idx: number, event: AuditEvent): OldEntryRow {
  const leaf = encodeLeaf(logId, idx, event);
  return {
    log_id: logId,
    idx,
    at: event.at,
    event_type: event.type,
    outcome: event.outcome,
    organisation_id: event.organisationId,
    actor_account_id: event.actor.accountId,
    case_id: event.caseId,
    leaf,
    leaf_hash: b64(hashLeaf(utf8.encode(leaf))),
  };
}

const leafHashOf = (row: OldEntryRow) => new Uint8Array(Buffer.from(row.leaf_hash, 'base64'));

/**
 * Writes entries [from, to) of a log in the old layout, with its head and the full tiles they
 * complete (level 0 only: these logs are short), as the append of migration 008's time did.
 */
async function writeOldEntries(db: Kysely<any>, rows: OldEntryRow[], from: number, to: number): Promise<void> {
  const logId = rows[0]!.log_id;
  for (let i = from; i < to; i += 50) await db.insertInto('audit_entry').values(rows.slice(i, Math.min(i + 50, to))).execute();
  const hashes = rows.slice(0, to).map(leafHashOf);
  for (let n = Math.floor(from / 256); (n + 1) * 256 <= to; n++) {
    const tile = hashes.slice(n * 256, n * 256 + 256);
    await db
      .insertInto('audit_tile')
      .values({ log_id: logId, level: 0, idx: n, hashes: Buffer.concat(tile), root: Buffer.from(rootFromLeafHashes(tile)) })
      .execute();
  }
  const compact = JSON.stringify(CompactRange.empty().appendAll(hashes).hashes().map(b64));
  await db
    .insertInto('audit_log_head')
    .values({ log_id: logId, size: to, compact_hashes: compact, checkpointed_size: 0 })
    .onConflict((oc) => oc.column('log_id').doUpdateSet({ size: to, compact_hashes: compact }))
    .execute();
}

interface Fixture {
  database: Database;
  key: LogKey;
  cleanup(): Promise<void>;
}

async function freshDatabase(kind: 'sqlite' | 'postgres'): Promise<Fixture> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'consilium-m015-'));
  const key = loadLogKey({ publicUrl: 'http://localhost:8080', dataDir });
  if (kind === 'sqlite') {
    const database = openDatabase({ dataDir });
    return { database, key, cleanup: async () => void rmSync(dataDir, { recursive: true, force: true }) };
  }
  // A database of its own, created and dropped as test-support/harness.ts does for servers.
  const name = `consilium_test_${randomBytes(6).toString('hex')}`;
  const admin = async (query: string) => {
    const client = new pg.Client({ connectionString: pgAdminUrl });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(pgAdminUrl!);
  url.pathname = `/${name}`;
  const database = openDatabase({ dataDir, databaseUrl: url.toString() });
  return {
    database,
    key,
    cleanup: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function columnsOf(db: Kysely<any>, table: string): Promise<string[] | undefined> {
  const tables = await db.introspection.getTables();
  return tables
    .find((t) => t.name === table)
    ?.columns.map((c) => c.name)
    .sort();
}

/** Migrates to just before 015 and fills two logs in the old layout, with checkpoints signed on them. */
async function fillOldLayout({ database, key }: Fixture) {
  const { db } = database;
  const old = db as unknown as Kysely<any>;
  expect(await migrateTo(db, '014-org-connections')).toContain('014-org-connections');
  expect(await columnsOf(old, 'audit_entry')).toEqual(
    ['actor_account_id', 'at', 'case_id', 'event_type', 'idx', 'leaf', 'leaf_hash', 'log_id', 'organisation_id', 'outcome'],
  );

  const orgRows = Array.from({ length: ORG_ENTRIES }, (_, n) => oldRowOf(ORG, n, eventOf(ORG, n)));
  const deploymentRows = Array.from({ length: DEPLOYMENT_ENTRIES }, (_, n) => oldRowOf(DEPLOYMENT_LOG, n, eventOf(null, n)));
  await writeOldEntries(old, orgRows, 0, 1_000);
  await writeOldEntries(old, deploymentRows, 0, DEPLOYMENT_ENTRIES);
  expect(await checkpointLogs(db, key, new Date(START + 4_000_000))).toBe(2);
  await writeOldEntries(old, orgRows, 1_000, ORG_ENTRIES);
  expect(await checkpointLogs(db, key, new Date(START + 5_000_000))).toBe(1);

  const expected = [...deploymentRows, ...orgRows].sort((a, b) => (a.log_id < b.log_id ? -1 : a.log_id > b.log_id ? 1 : a.idx - b.idx));
  expect(await oldEntries(old)).toEqual(expected);
  // The search fields are not trivial: some entries have an actor account, some a case, some neither.
  expect(expected.filter((r) => r.actor_account_id !== null).length).toBeGreaterThan(100);
  expect(expected.filter((r) => r.case_id !== null).length).toBeGreaterThan(100);
  expect(expected.filter((r) => r.case_id === null && r.actor_account_id === null).length).toBeGreaterThan(100);
  return { orgRows, deploymentRows, expected };
}

async function oldEntries(old: Kysely<any>): Promise<OldEntryRow[]> {
  const rows = (await old.selectFrom('audit_entry').selectAll().orderBy('log_id').orderBy('idx').execute()) as OldEntryRow[];
  return rows.map((r) => ({ ...r, idx: Number(r.idx) }));
}

const backends = [['sqlite'], ...(pgAdminUrl ? [['postgres']] : [])] as ['sqlite' | 'postgres'][];

describe.each(backends)('migration 015-audit-compact on %s', (kind) => {
  let fixture: Fixture | undefined;
  afterEach(async () => {
    await fixture?.database.close();
    await fixture?.cleanup();
    fixture = undefined;
  });

  it('copies every entry exactly into the compact table and the search index, and the log verifies and grows after it', async () => {
    fixture = await freshDatabase(kind);
    const { database, key } = fixture;
    const { db } = database;
    const old = db as unknown as Kysely<any>;
    const { orgRows, expected } = await fillOldLayout(fixture);

    expect(await migrateTo(db, '015-audit-compact')).toEqual(['015-audit-compact']);
    await migrateToLatest(db); // and whatever came after it

    // The record of truth: the same leaves, byte for byte, and the leaf hashes as 32 raw bytes.
    const entries = await db.selectFrom('audit_entry').selectAll().orderBy('log_id').orderBy('idx').execute();
    expect(entries).toHaveLength(expected.length);
    entries.forEach((row, i) => {
      const want = expected[i]!;
      expect([row.log_id, Number(row.idx)]).toEqual([want.log_id, want.idx]);
      expect(Buffer.from(row.leaf, 'utf8').equals(Buffer.from(want.leaf, 'utf8')), `leaf of ${want.log_id}/${want.idx}`).toBe(true);
      expect(row.leaf_hash).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(row.leaf_hash).equals(Buffer.from(leafHashOf(want))), `leaf hash of ${want.log_id}/${want.idx}`).toBe(true);
      expect(Buffer.from(row.leaf_hash).equals(Buffer.from(hashLeaf(utf8.encode(row.leaf))))).toBe(true);
    });

    // The search index: the old search columns of every entry, and each log indexed to its size.
    const search = await db.selectFrom('audit_search').selectAll().orderBy('log_id').orderBy('idx').execute();
    expect(search.map((r) => ({ ...r, idx: Number(r.idx) }))).toEqual(
      expected.map((r) => ({ log_id: r.log_id, idx: r.idx, at: r.at, event_type: r.event_type, outcome: r.outcome, actor_account_id: r.actor_account_id, case_id: r.case_id })),
    );
    const indexHeads = await db.selectFrom('audit_index_head').selectAll().orderBy('log_id').execute();
    expect(indexHeads.map((h) => [h.log_id, Number(h.indexed_size)])).toEqual([
      [DEPLOYMENT_LOG, DEPLOYMENT_ENTRIES],
      [ORG, ORG_ENTRIES],
    ]);

    // The old table is gone; the new one has only the record of truth.
    const tables = (await old.introspection.getTables()).map((t) => t.name);
    expect(tables).not.toContain('audit_entry_v2');
    expect(await columnsOf(old, 'audit_entry')).toEqual(['idx', 'leaf', 'leaf_hash', 'log_id']);
    expect(await columnsOf(old, 'audit_search')).toEqual(['actor_account_id', 'at', 'case_id', 'event_type', 'idx', 'log_id', 'outcome']);
    if (kind === 'sqlite') {
      const { ddl } = await sql<{ ddl: string }>`select sql as ddl from sqlite_master where type = 'table' and name = 'audit_entry'`.execute(db).then((r) => r.rows[0]!);
      expect(ddl).toMatch(/without rowid\s*$/i);
    } else {
      const pk = await sql<{ name: string }>`select conname as name from pg_constraint where conrelid = 'audit_entry'::regclass and contype = 'p'`.execute(db);
      expect(pk.rows).toEqual([{ name: 'audit_entry_pk' }]);
    }
    // (log_id, idx) is still the key: a second row at an index is refused.
    const first = entries.find((e) => e.log_id === ORG)!;
    await expect(db.insertInto('audit_entry').values({ log_id: ORG, idx: 0, leaf: first.leaf, leaf_hash: first.leaf_hash }).execute()).rejects.toThrow();

    // The log verifies against the checkpoints signed before the upgrade, search index included.
    for (const [logId, size, checkpoints] of [
      [ORG, ORG_ENTRIES, 2],
      [DEPLOYMENT_LOG, DEPLOYMENT_ENTRIES, 1],
    ] as const) {
      const report = await verifyLog(db, key, logId, { index: true });
      expect(report, JSON.stringify(report.problems.slice(0, 5))).toMatchObject({ logId, entries: size, checkpoints, ok: true, problems: [] });
    }

    // Appends continue the migrated logs, and complete the organisation's partial tile, which
    // reads the migrated leaf hashes at its start.
    const appended = Array.from({ length: APPENDED }, (_, i) => eventOf(ORG, ORG_ENTRIES + i));
    const indices = await db.transaction().execute((trx) => appendAudit(trx, database.kind, [...appended, eventOf(null, DEPLOYMENT_ENTRIES)]));
    // Logs are appended in log id order: "deployment" before the organisation's.
    expect(indices).toEqual([DEPLOYMENT_ENTRIES, ...Array.from({ length: APPENDED }, (_, i) => ORG_ENTRIES + i)]);
    expect(await checkpointLogs(db, key, new Date(START + 6_000_000))).toBe(2);
    await catchUpIndex(db, database.kind, ORG);
    await catchUpIndex(db, database.kind, DEPLOYMENT_LOG);

    const allOrgHashes = [...orgRows.map(leafHashOf), ...appended.map((e, i) => hashLeaf(utf8.encode(encodeLeaf(ORG, ORG_ENTRIES + i, e))))];
    const tile = await db.selectFrom('audit_tile').select(['hashes', 'root']).where('log_id', '=', ORG).where('level', '=', 0).where('idx', '=', PARTIAL_TILE).executeTakeFirstOrThrow();
    const tileLeaves = allOrgHashes.slice(PARTIAL_TILE * 256, PARTIAL_TILE * 256 + 256);
    expect(Buffer.from(tile.hashes).equals(Buffer.concat(tileLeaves))).toBe(true);
    expect(Buffer.from(tile.root).equals(Buffer.from(rootFromLeafHashes(tileLeaves)))).toBe(true);

    for (const [logId, size, checkpoints] of [
      [ORG, ORG_ENTRIES + APPENDED, 3],
      [DEPLOYMENT_LOG, DEPLOYMENT_ENTRIES + 1, 2],
    ] as const) {
      const report = await verifyLog(db, key, logId, { index: true });
      expect(report, JSON.stringify(report.problems.slice(0, 5))).toMatchObject({ logId, entries: size, checkpoints, ok: true, problems: [] });
      const indexed = await db.selectFrom('audit_index_head').select('indexed_size').where('log_id', '=', logId).executeTakeFirstOrThrow();
      expect(Number(indexed.indexed_size)).toBe(size);
    }
    const latest = await db.selectFrom('audit_checkpoint').select('root_hash').where('log_id', '=', ORG).where('size', '=', ORG_ENTRIES + APPENDED).executeTakeFirstOrThrow();
    expect(latest.root_hash).toBe(b64(rootFromLeafHashes(allOrgHashes)));
  });

  it('leaves the old layout as it was when the upgrade fails part way, and runs again once the cause is gone', async () => {
    fixture = await freshDatabase(kind);
    const { database, key } = fixture;
    const { db } = database;
    const old = db as unknown as Kysely<any>;
    const { expected } = await fillOldLayout(fixture);
    const auditTables = async () => (await old.introspection.getTables()).map((t) => t.name).filter((t) => t.startsWith('audit_')).sort();
    const tablesBefore = await auditTables();

    // The migration's last statement creates the index audit_search_case: an index already of
    // that name fails it after the copy, the drop of the old table and the rename.
    await old.schema.createTable('stray').addColumn('case_id', 'text').execute();
    await old.schema.createIndex('audit_search_case').on('stray').column('case_id').execute();
    await expect(migrateToLatest(db)).rejects.toThrow(/audit_search_case/);

    expect(await auditTables()).toEqual(tablesBefore);
    expect(await oldEntries(old)).toEqual(expected);
    const applied = await old.selectFrom('kysely_migration').select('name').execute();
    expect(applied.map((m) => m.name)).not.toContain('015-audit-compact');

    await old.schema.dropTable('stray').execute();
    expect(await migrateTo(db, '015-audit-compact')).toEqual(['015-audit-compact']);
    await migrateToLatest(db); // and whatever came after it
    expect(await columnsOf(old, 'audit_entry')).toEqual(['idx', 'leaf', 'leaf_hash', 'log_id']);
    expect(Number((await db.selectFrom('audit_entry').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(expected.length);
    for (const logId of [ORG, DEPLOYMENT_LOG]) {
      const report = await verifyLog(db, key, logId, { index: true });
      expect(report, JSON.stringify(report.problems.slice(0, 5))).toMatchObject({ ok: true, problems: [] });
    }
  });
});
