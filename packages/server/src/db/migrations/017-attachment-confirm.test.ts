import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { migrateTo, migrateToLatest, openDatabase, type Database } from '../database.js';

/**
 * Migration 017-attachment-confirm on a database with attachment links from before it: they were
 * made by clients that never confirm, so they come out confirmed at their upload time (the sweep
 * of pending uploads never takes them), and new links may be pending (null).
 */

/** PostgreSQL runs when CONSILIUM_TEST_PG holds a URL to a server where we may CREATE DATABASE. */
const pgAdminUrl = process.env.CONSILIUM_TEST_PG;
const AT = '2026-06-01T08:00:00.000Z';
const BLOB = 'ab'.repeat(32);

async function freshDatabase(kind: 'sqlite' | 'postgres'): Promise<{ database: Database; cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'consilium-m017-'));
  if (kind === 'sqlite') return { database: openDatabase({ dataDir }), cleanup: async () => void rmSync(dataDir, { recursive: true, force: true }) };
  // A database of its own, created and dropped as test-support/harness.ts does for servers.
  const name = `consilium_test_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: pgAdminUrl });
    await client.connect();
    await client.query(statement);
    await client.end();
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(pgAdminUrl!);
  url.pathname = `/${name}`;
  return {
    database: openDatabase({ dataDir, databaseUrl: url.toString() }),
    cleanup: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each([['sqlite' as const], ...(pgAdminUrl ? [['postgres' as const]] : [])])('migration 017-attachment-confirm on %s', (kind) => {
  let fixture: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  afterEach(async () => {
    await fixture?.database.close();
    await fixture?.cleanup();
    fixture = undefined;
  });

  it('existing links count as confirmed at their upload; new ones may be pending', async () => {
    fixture = await freshDatabase(kind);
    const db = fixture.database.db;
    await migrateTo(db, '015-audit-compact');
    await sql`INSERT INTO organisation (id, name, slug, created_at) VALUES ('org-1', 'St Elsewhere', 'st-elsewhere', ${AT})`.execute(db);
    await sql`INSERT INTO account (id, organisation_id, email, display_name, role, password_hash, created_at) VALUES ('acct-1', 'org-1', 'a@example.test', 'A', 'clinician', 'x', ${AT})`.execute(db);
    await sql`INSERT INTO conversation (id, organisation_id, kind, created_by, created_at, epoch, last_seq) VALUES ('conv-1', 'org-1', 'group', 'acct-1', ${AT}, 0, 0)`.execute(db);
    await sql`INSERT INTO attachment_blob (blob_id, size, uploaded_by, created_at) VALUES (${BLOB}, 100, 'acct-1', ${AT})`.execute(db);
    await sql`INSERT INTO attachment_link (blob_id, conversation_id, account_id, content_type, created_at) VALUES (${BLOB}, 'conv-1', 'acct-1', 'image/jpeg', ${AT})`.execute(db);

    expect(await migrateToLatest(db)).toContain('017-attachment-confirm');
    expect(await db.selectFrom('attachment_link').select(['blob_id', 'created_at', 'confirmed_at']).execute()).toEqual([{ blob_id: BLOB, created_at: AT, confirmed_at: AT }]);
    await db.updateTable('attachment_link').set({ confirmed_at: null }).execute();
    expect((await db.selectFrom('attachment_link').select('confirmed_at').executeTakeFirstOrThrow()).confirmed_at).toBeNull();
  });
});
