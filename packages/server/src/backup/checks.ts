import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { parseVerifierKey, type NoteSigner } from '@consilium/crypto/note';
import { loadPg, openDatabase } from '../db/database.js';
import { verifyLog } from '../audit/verify.js';
import type { LogKey } from '../audit/signing.js';
import type { CheckedManifest } from './manifest.js';
import { postgresRowCounts, sqliteRowCounts } from './snapshot.js';

export interface RestoreCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * The audit key as far as verification needs it: the public verifier key from the manifest. A
 * restored copy cannot sign (its signer refuses), which is right for a check.
 */
function verifyOnlyKey(verifierKey: string): LogKey {
  const verifier = parseVerifierKey(verifierKey);
  const signer: NoteSigner = {
    name: verifier.name,
    keyId: verifier.keyId,
    publicKey: new Uint8Array(32),
    sign: () => {
      throw new Error('a restored copy has no audit signing key');
    },
  } as NoteSigner;
  return { signer, verifier, verifierKey, name: verifier.name };
}

/**
 * Checks a restored copy against the snapshot's manifest: the database's own integrity check
 * (SQLite), the row count of every table, every audit log recomputed and checked against its
 * signed checkpoints, the checkpoints named in the manifest present, and every blob's content
 * hashing to its name.
 */
export async function checkRestored(manifest: CheckedManifest, where: { dir: string; databaseUrl?: string }): Promise<RestoreCheck[]> {
  const checks: RestoreCheck[] = [];
  const body = manifest.body;
  let counts: Record<string, number>;
  if (body.database === 'sqlite') {
    const file = new SqliteDatabase(path.join(where.dir, 'consilium.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const result = (file.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
      checks.push({ name: 'integrity_check', ok: result.length === 1 && result[0] === 'ok', detail: result.slice(0, 5).join('; ') });
      counts = sqliteRowCounts(file);
    } finally {
      file.close();
    }
  } else {
    const client = new (await loadPg()).Client({ connectionString: where.databaseUrl });
    await client.connect();
    try {
      const r = await client.query<{ ok: boolean }>("SELECT count(*) > 0 AS ok FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'kysely_migration'");
      checks.push({ name: 'schema present', ok: r.rows[0]!.ok, detail: r.rows[0]!.ok ? 'migration table restored' : 'no migration table' });
      counts = await postgresRowCounts(client);
    } finally {
      await client.end();
    }
  }
  const wrong = Object.entries(body.tables).filter(([t, n]) => counts[t] !== n);
  const total = Object.values(body.tables).reduce((a, b) => a + b, 0);
  checks.push({
    name: 'row counts',
    ok: wrong.length === 0,
    detail: wrong.length === 0 ? `${Object.keys(body.tables).length} tables, ${total} rows as in the manifest` : wrong.map(([t, n]) => `${t}: ${counts[t] ?? 'missing'} rows, manifest ${n}`).join('; '),
  });

  const database = openDatabase(body.database === 'sqlite' ? { dataDir: where.dir } : { dataDir: where.dir, databaseUrl: where.databaseUrl });
  try {
    const key = verifyOnlyKey(body.audit.verifierKey);
    const logs = (await database.db.selectFrom('audit_log_head').select('log_id').orderBy('log_id').execute()).map((r) => r.log_id);
    const bad: string[] = [];
    let entries = 0;
    for (const logId of logs) {
      const report = await verifyLog(database.db, key, logId);
      entries += report.entries;
      if (!report.ok) bad.push(`${logId}: ${report.problems.slice(0, 3).map((p) => p.message).join('; ')}`);
    }
    checks.push({ name: 'audit verify', ok: bad.length === 0, detail: bad.length === 0 ? `${logs.length} logs, ${entries} entries, every checkpoint matches` : bad.join(' | ') });
    const missing: string[] = [];
    for (const cp of body.audit.checkpoints) {
      const row = await database.db.selectFrom('audit_checkpoint').select('root_hash').where('log_id', '=', cp.logId).where('size', '=', cp.size).executeTakeFirst();
      if (!row || row.root_hash !== cp.rootHash) missing.push(`${cp.logId}@${cp.size}`);
    }
    checks.push({ name: 'audit checkpoints of the manifest', ok: missing.length === 0, detail: missing.length === 0 ? `${body.audit.checkpoints.length} present` : `missing or different: ${missing.join(', ')}` });
  } finally {
    await database.close();
  }

  const blobs = body.files.filter((f) => f.kind === 'blob');
  const badBlobs: string[] = [];
  for (const b of blobs) {
    const name = path.basename(b.path);
    // Blob files are named by the SHA-256 of their content (attachments/blob-store.ts).
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const h = createHash('sha256');
    for await (const chunk of createReadStream(path.join(where.dir, b.path))) h.update(chunk as Buffer);
    if (h.digest('hex') !== name) badBlobs.push(b.path);
  }
  checks.push({ name: 'blobs', ok: badBlobs.length === 0, detail: badBlobs.length === 0 ? `${blobs.length} blobs, each hashing to its name` : `wrong content: ${badBlobs.slice(0, 5).join(', ')}` });
  return checks;
}
