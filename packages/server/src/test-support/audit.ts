import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { hashLeaf, openCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion, type Checkpoint } from '@consilium/crypto';
import type { AuditEntry, AuditEventType, AuditVerifyJob } from '@consilium/protocol';
import { checkpointLogs } from '../audit/checkpointer.js';
import { decodeLeaf, encodeLeaf, type AuditEvent, type DecodedLeaf } from '../audit/leaf.js';
import { DEPLOYMENT_LOG } from '../audit/log.js';
import type { Deps } from '../deps.js';
import type { AuditEntryTable } from '../db/schema/audit.js';
import type { TestClient } from './harness.js';

export { DEPLOYMENT_LOG };

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
export const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const utf8 = new TextEncoder();

/** What the tests need of a server: its deps (database, log key, clock). */
type HasDeps = { deps: Deps };

/** The stored rows of one log, in index order, straight from the database. */
export function auditRows(server: HasDeps, logId: string, fromIndex = 0): Promise<AuditEntryTable[]> {
  return server.deps.db.selectFrom('audit_entry').selectAll().where('log_id', '=', logId).where('idx', '>=', fromIndex).orderBy('idx').execute();
}

/** The decoded leaves of one log from `fromIndex` on. */
export async function auditEntries(server: HasDeps, logId: string, fromIndex = 0): Promise<DecodedLeaf[]> {
  return (await auditRows(server, logId, fromIndex)).map((r) => decodeLeaf(r.leaf));
}

/** The decoded leaves of one log with the given event type (or type prefix, ending in '_' or '.'), in index order. */
export async function auditEntriesOfType(server: HasDeps, logId: string, type: string): Promise<DecodedLeaf[]> {
  const prefix = type.endsWith('_') || type.endsWith('.');
  return (await auditEntries(server, logId)).filter((e) => (prefix ? e.type.startsWith(type) : e.type === type));
}

/** The size the log head records (what appends continue from). */
export async function logSize(server: HasDeps, logId: string): Promise<number> {
  const head = await server.deps.db.selectFrom('audit_log_head').select('size').where('log_id', '=', logId).executeTakeFirst();
  return Number(head?.size ?? 0);
}

/** Every log's size, by log id. */
export async function logSizes(server: HasDeps): Promise<Map<string, number>> {
  const heads = await server.deps.db.selectFrom('audit_log_head').select(['log_id', 'size']).execute();
  return new Map(heads.map((h) => [h.log_id, Number(h.size)]));
}

/**
 * Runs `action` and returns what it appended, by log id (entries at indices from each log's size
 * before). Tests run one request at a time, so everything appended meanwhile belongs to the action.
 */
export async function appendedBy<T>(server: HasDeps, action: () => Promise<T>): Promise<{ result: T; logs: Record<string, DecodedLeaf[]> }> {
  const before = await logSizes(server);
  const result = await action();
  const logs: Record<string, DecodedLeaf[]> = {};
  for (const [logId, size] of await logSizes(server)) {
    const from = before.get(logId) ?? 0;
    if (size > from) logs[logId] = await auditEntries(server, logId, from);
  }
  return { result, logs };
}

/** Signs a checkpoint for every log that grew, now, instead of waiting for the timer. */
export function checkpointNow(server: HasDeps): Promise<number> {
  return checkpointLogs(server.deps.db, server.deps.auditKey, server.deps.now());
}

/** GET /audit/log, and the checkpoint it carries opened with the verifier key it names. */
export async function latestCheckpoint(client: TestClient): Promise<{ logId: string; origin: string; verifierKey: string; size: number; checkpoint: Checkpoint }> {
  const r = await client.get('/api/v1/audit/log');
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.checkpoint, 'the log has a signed checkpoint').toEqual(expect.any(String));
  const opened = openCheckpoint(r.body.checkpoint, [parseVerifierKey(r.body.verifierKey)], r.body.origin);
  return { logId: r.body.logId, origin: r.body.origin, verifierKey: r.body.verifierKey, size: r.body.size, checkpoint: opened.checkpoint };
}

/** The leaf hash a client computes for an entry the API served (it rebuilds the canonical leaf). */
export function leafHashOf(logId: string, entry: AuditEntry): Uint8Array {
  const { index, ...event } = entry;
  return hashLeaf(utf8.encode(encodeLeaf(logId, index, event)));
}

/**
 * POST /audit/verify (202, a background job), then GET /audit/verify/:id until it is no longer
 * running; returns the finished job (its `result` is the report). Fails the test on any other status.
 */
export async function verifyOverApi(client: TestClient): Promise<AuditVerifyJob> {
  const started = await client.post('/api/v1/audit/verify');
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const deadline = Date.now() + 20_000;
  for (let job = started.body as AuditVerifyJob; ; ) {
    if (job.state !== 'running') return job;
    if (Date.now() > deadline) throw new Error(`verification ${job.id} still running after 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const r = await client.get(`/api/v1/audit/verify/${job.id}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    job = r.body as AuditVerifyJob;
  }
}

/** Fetches an inclusion proof over HTTP and checks it against `root`; returns whether it verified. */
export async function proveInclusion(client: TestClient, index: number, size: number, root: Uint8Array, expectedLeafHash?: Uint8Array): Promise<boolean> {
  const r = await client.get(`/api/v1/audit/proofs/inclusion?index=${index}&size=${size}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toMatchObject({ index, size });
  if (expectedLeafHash) expect(r.body.leafHash).toBe(b64(expectedLeafHash));
  return verifyInclusion(fromB64(r.body.leafHash), index, size, (r.body.proof as string[]).map(fromB64), root);
}

/** Fetches a consistency proof over HTTP and checks it between two roots. */
export async function proveConsistency(client: TestClient, from: number, to: number, fromRoot: Uint8Array, toRoot: Uint8Array): Promise<boolean> {
  const r = await client.get(`/api/v1/audit/proofs/consistency?from=${from}&to=${to}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toMatchObject({ from, to });
  return verifyConsistency(from, to, (r.body.proof as string[]).map(fromB64), fromRoot, toRoot);
}

/** The leaf hashes of a log as stored, for recomputing roots independently of the server. */
export async function storedLeafHashes(server: HasDeps, logId: string): Promise<Uint8Array[]> {
  return (await auditRows(server, logId)).map((r) => hashLeaf(utf8.encode(r.leaf)));
}

/** A synthetic event for the property test and the benchmark. */
export function syntheticEvent(organisationId: string | null, n: number, at: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  const types: AuditEventType[] = ['auth.sign_in', 'member.updated', 'org.settings_changed', 'audit.read', 'invite.created'];
  return {
    type: types[n % types.length]!,
    action: 'E',
    outcome: n % 7 === 0 ? 'failure' : 'success',
    at,
    organisationId,
    actor: { accountId: null, role: 'clinician', email: `user${n % 97}@example.test` },
    onBehalfOf: null,
    caseId: null,
    entity: { type: 'session', id: `s-${n}` },
    purposeOfUse: n % 11 === 0 ? 'ETREAT' : 'TREAT',
    networkAddress: `10.0.${(n >> 8) & 255}.${n & 255}`,
    emergency: n % 11 === 0,
    detail: { n, note: `event ${n}` },
    ...overrides,
  };
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF inside quotes), strict about stray quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  let wasQuoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\r') throw new Error(`CSV: text after a closing quote at ${i}`);
      } else {
        cell += c;
        i++;
      }
      continue;
    }
    if (c === '"') {
      if (cell !== '' || wasQuoted) throw new Error(`CSV: quote inside an unquoted field at ${i}`);
      quoted = true;
      wasQuoted = true;
      i++;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      wasQuoted = false;
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      wasQuoted = false;
      i += 2;
    } else if (c === '\n' || c === '\r') {
      throw new Error(`CSV: bare line break at ${i} (RFC 4180 wants CRLF)`);
    } else {
      cell += c;
      i++;
    }
  }
  if (quoted) throw new Error('CSV: unterminated quote');
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

const CLI = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));
const packagesDir = fileURLToPath(new URL('../../../', import.meta.url));
/** Sources the CLI's `audit verify` runs, and where the build puts them. */
const CLI_SOURCES = ['cli/src/program.ts', ...['verify', 'verify-check', 'indexer', 'log', 'leaf', 'store', 'signing'].map((f) => `server/src/audit/${f}.ts`)];
const built = (src: string) => src.replace('/src/', '/dist/').replace(/\.ts$/, '.js');

/** The CLI runs from dist/: refuse to test a build older than the sources it would exercise. */
function assertCliBuilt(): void {
  for (const src of CLI_SOURCES) {
    const out = path.join(packagesDir, built(src));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(path.join(packagesDir, src)).mtimeMs) {
      throw new Error(`${out} is missing or older than its source: run npx tsc -b packages/cli first`);
    }
  }
}

/** Runs the built CLI (`node packages/cli/dist/main.js ...`); resolves with its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  assertCliBuilt();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
