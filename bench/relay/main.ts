/**
 * Relay benchmark driver. For each device count N: a fresh server (in this process, on
 * 127.0.0.1, SQLite in a temp dir or a fresh PostgreSQL database), N signed-in devices with one
 * WebSocket each (held by a child process, load-client.ts), then for each group size G:
 * floor(N / G) conversations, and three timed phases of real MLS application messages:
 *   calibrate  closed loop, 2 s, to size the message pools;
 *   max        closed loop, --concurrency POSTs in flight: sustained deliveries/s and latency;
 *   paced      open loop at --paced x the max rate: latency below saturation.
 * Prints tables and writes bench/results/relay-<db>-<timestamp>.json.
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { CiphertextMaker } from './ciphertexts.js';
import { measureMlsCosts, type MlsCostRow } from './mls-costs.js';
import { setUpDevices, setUpGroups, startBenchServer, type BenchDevice, type BenchServer, type SetupTimings } from './setup.js';
import { fmt, machineCpu, processCpuSeconds, table } from './stats.js';
import type { BenchConversation, PhaseRequest, PhaseResult } from './load-client.js';
import { summariseProfile, type ProfileSummary } from './profile.js';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000,5000,10000' },
    groups: { type: 'string', default: '2,10,100' },
    db: { type: 'string', default: 'sqlite' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '32' },
    paced: { type: 'string', default: '0.5' },
    'max-messages': { type: 'string', default: '60000' },
    accounts: { type: 'string', default: 'store' },
    'sign-in': { type: 'string', default: 'direct' },
    ack: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'skip-mls': { type: 'boolean', default: false },
    'mls-only': { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '60' },
    'sqlite-synchronous': { type: 'string', default: 'full' },
    'pg-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    nats: { type: 'string' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`npx tsx bench/relay/run.ts [options]
  --devices 1000,5000,10000   connected devices N (one server per N)
  --groups 2,10,100           group sizes G (floor(N/G) conversations each)
  --db sqlite|postgres        storage (postgres: a fresh database on --pg-url, dropped at the end)
  --seconds 10                measured window of each timed phase (after --warmup 2 s of load)
  --concurrency 32            POSTs in flight in the closed-loop ("max") phase
  --paced 0.5                 open-loop phase at this fraction of the max rate (0: skip)
  --max-messages 60000        cap on pre-generated ciphertexts per phase
  --accounts store|service    accounts via the accounts store with one shared argon2 hash (fast),
                              or createAccount (argon2 per account, ~35 ms each)
  --sign-in direct|http       sessions via createSession, or password sign-in over HTTP
  --ack                       receivers send ack frames (at most one per device every 250 ms)
  --profile                   CPU-profile the server thread during each max phase
  --skip-mls / --mls-only     leave out / only run the MLS cost table
  --sqlite-synchronous full   experiment: 'normal' sets PRAGMA synchronous=NORMAL after start
                              (commits stop waiting for fsync; not the shipped setting)
  --nats nats://127.0.0.1:4222  run the server with the NATS fan-out (what a cluster node pays)
  --quick                     CI-sized: --devices 500 --groups 2,100 --seconds 3 --warmup 1 --skip-mls
                              (explicit options still win)
  --max-minutes 60            hard stop: clean up (drop the database) and exit after this long`);
  process.exit(0);
}

const list = (s: string) => s.split(',').map((x) => Number(x.trim())).filter((x) => x > 0);
if (args.quick) {
  const given = new Set(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')[0]));
  const quick = { devices: '500', groups: '2,100', seconds: '3', warmup: '1' } as const;
  for (const [k, v] of Object.entries(quick)) if (!given.has(k)) (args as Record<string, unknown>)[k] = v;
  if (!given.has('skip-mls') && !given.has('mls-only')) args['skip-mls'] = true;
}
const DEVICE_COUNTS = list(args.devices);
const GROUP_SIZES = list(args.groups);
const DB = args.db === 'postgres' || args.db === 'pg' ? 'postgres' : 'sqlite';
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const PACED = Number(args.paced);
const MAX_MESSAGES = Number(args['max-messages']);
const ACCOUNTS = args.accounts === 'service' ? 'service' : 'store';
const SIGN_IN = args['sign-in'] === 'http' ? 'http' : 'direct';
const CALIBRATION_SECONDS = 2;
const CALIBRATION_MESSAGES = 4000;

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, '..', 'results');
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const resultsFile = path.join(resultsDir, `relay-${DB}-${stamp}.json`);
const log = (line: string) => console.log(line);

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** What the server process (this one) and the machine did between two marks. */
interface ServerSample {
  at: number;
  cpu: NodeJS.CpuUsage;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
  machine: ReturnType<typeof machineCpu>;
  child: number | null;
  /** CPU seconds of each of our PostgreSQL backends at this moment. */
  pg: Map<number, number>;
}

interface ServerUsage {
  /** CPU of this process (the server, plus the idle driver and pool workers), % of one core. */
  serverCpuPercent: number;
  /** The system (kernel) part of serverCpuPercent: syscalls, socket writes, fsync. */
  serverSystemCpuPercent: number;
  /** Share of the server thread's time spent running (not waiting for I/O). */
  serverEventLoopUtilisation: number;
  serverRssMiB: number;
  loadClientCpuPercent: number | null;
  postgresCpuPercent: number | null;
  /** The whole machine's busy CPU, % of one core (200 = both cores). */
  machineCpuPercent: number | null;
  /** Machine busy minus server, load client and our PostgreSQL backends: other people's work. */
  otherCpuPercent: number | null;
  /** Server CPU per accepted message and per delivery: less sensitive to CPU stolen by others than rates are. */
  cpuMsPerMessage?: number;
  cpuMicrosPerDelivery?: number;
}

interface PhaseRecord extends PhaseResult {
  server: ServerUsage;
  profile?: ProfileSummary;
}

interface GroupRun {
  devices: number;
  groupSize: number;
  conversations: number;
  setupSeconds: { conversations: number; senderGroups: number };
  phases: PhaseRecord[];
}

interface DeviceRun {
  devices: number;
  setup: SetupTimings & { socketsSeconds: number; socketsFailed: number };
  groups: GroupRun[];
}

const output = {
  meta: {
    bench: 'relay',
    db: DB,
    startedAt: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverageAtStart: loadavg(),
    loadAverageAtEnd: null as number[] | null,
    options: {
      devices: DEVICE_COUNTS,
      groups: GROUP_SIZES,
      seconds: SECONDS,
      warmup: WARMUP,
      concurrency: CONCURRENCY,
      paced: PACED,
      accounts: ACCOUNTS,
      signIn: SIGN_IN,
      ack: args.ack,
      sqliteSynchronous: DB === 'sqlite' ? args['sqlite-synchronous'] : null,
      nats: args.nats ?? null,
    },
    plaintextBytes: 1024,
  },
  mls: [] as MlsCostRow[],
  runs: [] as DeviceRun[],
  notes: [] as string[],
};
const save = () => {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(output, null, 2)}\n`);
};

/** The load client process and a tiny request/reply protocol over its IPC channel. */
class LoadClient {
  private readonly child: ChildProcess;
  private readonly queue: ((m: any) => void)[] = [];
  onMark: (name: string) => void = () => {};
  exited: Promise<void>;

  constructor() {
    this.child = fork(path.join(here, 'load-client.ts'), [], { execArgv: process.execArgv, serialization: 'advanced', stdio: 'inherit' });
    this.exited = new Promise((resolve) => this.child.on('exit', () => resolve()));
    this.child.on('message', (m: any) => {
      if (m.type === 'mark') return this.onMark(m.name);
      if (m.type === 'failed') console.error(`load client failed: ${m.message}`);
      this.queue.shift()?.(m);
    });
    this.child.on('exit', (code) => {
      for (const w of this.queue.splice(0)) w({ type: 'failed', message: `load client exited with ${code}` });
    });
  }
  get pid(): number {
    return this.child.pid!;
  }
  next(): Promise<any> {
    return new Promise((resolve) => this.queue.push(resolve));
  }
  async request(message: unknown): Promise<any> {
    const reply = this.next();
    this.child.send(message as object);
    const m = await reply;
    if (m.type === 'failed') throw new Error(m.message);
    return m;
  }
}

function sample(client: LoadClient, pgPids: number[]): ServerSample {
  return {
    at: performance.now(),
    cpu: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
    machine: machineCpu(),
    child: processCpuSeconds(client.pid),
    pg: new Map(pgPids.flatMap((pid) => {
      const cpu = processCpuSeconds(pid);
      return cpu === null ? [] : [[pid, cpu] as [number, number]];
    })),
  };
}

function usage(a: ServerSample, b: ServerSample, rssMiB: number, pgPids: number[]): ServerUsage {
  const seconds = (b.at - a.at) / 1000;
  // Backends that started inside the window count from zero; one that ended inside it is lost
  // (the pool keeps its connections while busy, so that is rare and small).
  let pgSeconds = 0;
  for (const [pid, cpu] of b.pg) pgSeconds += cpu - (a.pg.get(pid) ?? 0);
  const server = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1e6 / seconds;
  const child = a.child !== null && b.child !== null ? (b.child - a.child) / seconds : null;
  const pgCpu = pgPids.length ? pgSeconds / seconds : null;
  let machine: number | null = null;
  if (a.machine && b.machine && b.machine.total > a.machine.total) {
    machine = ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * cpus().length;
  }
  return {
    serverCpuPercent: server * 100,
    serverSystemCpuPercent: ((b.cpu.system - a.cpu.system) / 1e6 / seconds) * 100,
    serverEventLoopUtilisation: performance.eventLoopUtilization(b.elu, a.elu).utilization,
    serverRssMiB: rssMiB,
    loadClientCpuPercent: child === null ? null : child * 100,
    postgresCpuPercent: pgCpu === null ? null : pgCpu * 100,
    machineCpuPercent: machine === null ? null : machine * 100,
    otherCpuPercent: machine === null ? null : Math.max(0, (machine - server - (child ?? 0) - (pgCpu ?? 0)) * 100),
  };
}

async function runPhase(
  client: LoadClient,
  bench: BenchServer,
  request: PhaseRequest,
  profileLabel: string | null,
): Promise<PhaseRecord> {
  const pgPids = await bench.backendPids();
  let start: ServerSample | null = null;
  let end: ServerSample | null = null;
  let rss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250);
  let newBackends: Promise<void> = Promise.resolve();
  let session: Session | null = null;
  let profiling: Promise<unknown> | null = null;
  let stopped: Promise<{ profile: any }> | null = null;
  client.onMark = (name) => {
    if (name === 'window-start') {
      start = sample(client, pgPids);
      rss = process.memoryUsage().rss;
      if (profileLabel) {
        session = new Session();
        session.connect();
        profiling = session.post('Profiler.enable').then(() => session!.post('Profiler.setSamplingInterval', { interval: 200 })).then(() => session!.post('Profiler.start'));
      }
    } else if (name === 'window-end') {
      end = sample(client, pgPids);
      // Stop at the end of the window, not after the wait for stragglers.
      if (session && profiling) stopped = profiling.then(() => session!.post('Profiler.stop') as Promise<{ profile: any }>);
      newBackends = bench.backendPids().then((pids) => {
        for (const pid of pids) {
          const cpu = processCpuSeconds(pid);
          if (!end!.pg.has(pid) && cpu !== null) end!.pg.set(pid, cpu);
        }
      });
    }
  };
  const reply = await client.request({ type: 'phase', request });
  clearInterval(rssTimer);
  client.onMark = () => {};
  await newBackends;
  const result = reply.result as PhaseResult;
  const server = usage(start ?? end!, end!, rss / 2 ** 20, pgPids);
  const cpuSeconds = server.serverCpuPercent / 100 + (server.postgresCpuPercent ?? 0) / 100;
  if (result.acceptedPerSecond > 0) server.cpuMsPerMessage = (cpuSeconds * 1000) / result.acceptedPerSecond;
  if (result.deliveredPerSecond > 0) server.cpuMicrosPerDelivery = (cpuSeconds * 1e6) / result.deliveredPerSecond;
  const record: PhaseRecord = { ...result, server };
  if (session && stopped) {
    const { profile } = await (stopped as Promise<{ profile: any }>);
    (session as Session).disconnect();
    const file = path.join(resultsDir, `relay-${DB}-${stamp}-${profileLabel}.cpuprofile`);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    record.profile = summariseProfile(profile, file);
  }
  return record;
}

async function runDevices(n: number, maker: CiphertextMaker): Promise<DeviceRun> {
  log(`\n== ${n} devices, ${DB}`);
  const bench = await startBenchServer(DB, args['pg-url'], args['sqlite-synchronous'], args.nats);
  currentBench = bench;
  const client = new LoadClient();
  try {
    await client.next(); // started
    const { devices, timings } = await setUpDevices(bench, { devices: n, accounts: ACCOUNTS, signIn: SIGN_IN, log });
    const connected = await client.request({ type: 'connect', url: bench.server.url, devices: devices.map((d) => ({ id: d.identity.deviceId, cookie: d.cookie })), concurrency: 64 });
    log(`  ${n - connected.failed} WebSockets open in ${(connected.ms / 1000).toFixed(1)} s${connected.failed ? `, ${connected.failed} FAILED: ${connected.errors.join('; ')}` : ''}`);
    const run: DeviceRun = { devices: n, setup: { ...timings, socketsSeconds: connected.ms / 1000, socketsFailed: connected.failed }, groups: [] };
    output.runs.push(run);
    for (const size of GROUP_SIZES) {
      if (size > n) continue;
      run.groups.push(await runGroups(bench, client, devices, size, maker));
      save();
    }
    return run;
  } finally {
    await client.request({ type: 'close' }).catch(() => {});
    await client.exited;
    await maker.reset();
    await bench.stop();
    currentBench = null;
  }
}

async function runGroups(bench: BenchServer, client: LoadClient, devices: BenchDevice[], size: number, maker: CiphertextMaker): Promise<GroupRun> {
  const { groups, seconds: conversationSeconds } = await setUpGroups(bench, devices, size);
  let t = performance.now();
  await maker.addSenders(
    groups.map((g) => ({
      conversationId: g.id,
      userId: g.sender.accountId,
      deviceId: g.sender.identity.deviceId,
      signaturePublicKey: g.sender.identity.signaturePublicKey,
      signaturePrivateKey: g.sender.identity.signaturePrivateKey,
    })),
  );
  const senderSeconds = (performance.now() - t) / 1000;
  log(`  G=${size}: ${groups.length} conversations in ${conversationSeconds.toFixed(1)} s, sender MLS groups in ${senderSeconds.toFixed(1)} s`);
  const conversations: BenchConversation[] = groups.map((g) => ({ id: g.id, senderCookie: g.sender.cookie, recipients: g.members.length - 1 }));
  await client.request({ type: 'conversations', list: conversations });
  const ids = groups.map((g) => g.id);

  /** Loads `total` fresh ciphertexts into the client, spread round-robin over the conversations. */
  const loadPool = async (total: number) => {
    const capped = Math.min(total, MAX_MESSAGES);
    const counts = ids.map((_, i) => Math.floor(capped / ids.length) + (i < capped % ids.length ? 1 : 0));
    const started = performance.now();
    const ciphertexts = await maker.encrypt(ids, counts);
    await client.request({ type: 'pool', ciphertexts });
    return { messages: capped, seconds: (performance.now() - started) / 1000 };
  };

  const phases: PhaseRecord[] = [];
  const base = { concurrency: CONCURRENCY, rate: 0, warmupSeconds: 0, maxInflight: 4096, ack: args.ack };

  let pool = await loadPool(Math.max(CALIBRATION_MESSAGES, Math.min(2 * ids.length, 10_000)));
  const calibration = await runPhase(client, bench, { ...base, name: 'calibrate', mode: 'closed', seconds: CALIBRATION_SECONDS }, null);
  phases.push(calibration);
  const rate = Math.max(calibration.acceptedPerSecond, 10);

  t = performance.now();
  pool = await loadPool(Math.ceil(rate * (WARMUP + SECONDS) * 2.5) + 500);
  log(`    ${pool.messages} ciphertexts in ${pool.seconds.toFixed(1)} s (calibration: ${fmt(rate)} POST/s)`);
  const max = await runPhase(
    client,
    bench,
    { ...base, name: 'max', mode: 'closed', seconds: WARMUP + SECONDS, warmupSeconds: WARMUP },
    args.profile ? `n${devices.length}-g${size}` : null,
  );
  phases.push(max);
  printPhase(devices.length, size, max);

  if (PACED > 0) {
    const target = Math.max(1, max.acceptedPerSecond * PACED);
    pool = await loadPool(Math.ceil(target * (WARMUP + SECONDS) * 1.1) + 100);
    const paced = await runPhase(client, bench, { ...base, name: `paced ${Math.round(PACED * 100)}%`, mode: 'paced', rate: target, seconds: WARMUP + SECONDS, warmupSeconds: WARMUP }, null);
    phases.push(paced);
    printPhase(devices.length, size, paced);
  }
  return { devices: devices.length, groupSize: size, conversations: groups.length, setupSeconds: { conversations: conversationSeconds, senderGroups: senderSeconds }, phases };
}

function printPhase(n: number, g: number, p: PhaseRecord): void {
  const warn = [
    p.ranOutOfMessages ? 'ran out of messages' : '',
    p.postsFailed ? `${p.postsFailed} POSTs failed ${JSON.stringify(p.failures)}` : '',
    p.missingDeliveries ? `${p.missingDeliveries} deliveries missing` : '',
    p.resyncFrames ? `${p.resyncFrames} resync frames` : '',
    Object.keys(p.errorFrames).length ? `error frames ${JSON.stringify(p.errorFrames)}` : '',
  ].filter(Boolean);
  log(
    `    ${p.name.padEnd(9)} N=${n} G=${g}: ${fmt(p.acceptedPerSecond)} msg/s -> ${fmt(p.deliveredPerSecond)} deliveries/s, ` +
      `latency p50 ${fmt(p.latencyMs.p50, 1)} ms p99 ${fmt(p.latencyMs.p99, 1)} ms; server CPU ${fmt(p.server.serverCpuPercent)}% (sys ${fmt(p.server.serverSystemCpuPercent)}%) ` +
      `ELU ${fmt(p.server.serverEventLoopUtilisation * 100)}%, client CPU ${fmt(p.server.loadClientCpuPercent ?? NaN)}%, ` +
      `other ${fmt(p.server.otherCpuPercent ?? NaN)}%${warn.length ? `  !! ${warn.join('; ')}` : ''}`,
  );
  if (p.profile) log(`    profile: ${p.profile.file}\n${p.profile.text}`);
}

function printSummary(): void {
  if (output.mls.length) {
    const suites = [...new Set(output.mls.map((r) => r.suite))];
    const ops = [...new Set(output.mls.map((r) => r.operation))];
    log('\nMLS costs in Node (median ms; bytes of commit/Welcome/message)');
    log(
      table(
        ['operation', ...suites.map((s) => (s.includes('XWING') ? 'X-Wing+Ed25519 (83)' : 'X25519+Ed25519 (1)'))],
        ops.map((op) => [
          op,
          ...suites.map((s) => {
            const r = output.mls.find((x) => x.suite === s && x.operation === op);
            if (!r) return '-';
            const bytes = r.bytes ? ` (${Object.entries(r.bytes).filter(([k]) => k !== 'base64').map(([k, v]) => `${k} ${fmt(v / 1024, 1)} KiB`).join(', ')})` : '';
            return `${fmt(r.ms, 2)}${bytes}`;
          }),
        ]),
      ),
    );
  }
  const rows: string[][] = [];
  for (const run of output.runs) {
    for (const g of run.groups) {
      for (const p of g.phases.filter((x) => x.name !== 'calibrate')) {
        rows.push([
          `${run.devices}`,
          `${g.groupSize}`,
          `${g.conversations}`,
          p.name,
          fmt(p.acceptedPerSecond),
          fmt(p.deliveredPerSecond),
          fmt(p.latencyMs.p50, 1),
          fmt(p.latencyMs.p99, 1),
          fmt(p.postMs.p50, 1),
          fmt(p.postMs.p99, 1),
          `${p.missingDeliveries}${p.resyncFrames ? `/${p.resyncFrames}r` : ''}`,
          fmt(p.server.serverCpuPercent),
          fmt(p.server.serverEventLoopUtilisation * 100),
          fmt(p.server.cpuMsPerMessage ?? NaN, 2),
          fmt(p.server.cpuMicrosPerDelivery ?? NaN),
          fmt(p.server.serverRssMiB),
          fmt(p.server.loadClientCpuPercent ?? NaN),
          fmt(p.server.postgresCpuPercent ?? NaN),
          fmt(p.server.otherCpuPercent ?? NaN),
        ]);
      }
    }
  }
  if (rows.length) {
    log(`\nRelay on ${DB} (${SECONDS} s windows after ${WARMUP} s warm-up; 1 KiB plaintext, ${output.runs[0]?.groups[0]?.phases[1]?.frameBytes ?? '?'} B frames)`);
    log(
      table(
        ['N', 'G', 'convs', 'phase', 'msg/s', 'deliv/s', 'p50 ms', 'p99 ms', 'POST p50', 'POST p99', 'missing', 'srv CPU%', 'srv ELU%', 'ms/msg', 'µs/deliv', 'RSS MiB', 'client%', 'pg%', 'other%'],
        rows,
      ),
    );
  }
  for (const run of output.runs) {
    const s = run.setup;
    log(
      `setup N=${run.devices}: accounts ${s.accountsSeconds.toFixed(1)} s, sessions ${s.sessionsSeconds.toFixed(1)} s, identities ${s.identitiesSeconds.toFixed(1)} s, ` +
        `devices ${s.devicesSeconds.toFixed(1)} s, sockets ${s.socketsSeconds.toFixed(1)} s${s.socketsFailed ? ` (${s.socketsFailed} failed)` : ''}`,
    );
  }
  log(`\nresults: ${path.relative(process.cwd(), resultsFile)}`);
}

async function main(): Promise<void> {
  log(`relay bench: db ${DB}${args.nats ? ' + NATS fan-out' : ''}, devices ${DEVICE_COUNTS.join('/')}, groups ${GROUP_SIZES.join('/')}, ${SECONDS} s windows; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (!args['skip-mls']) {
    log('MLS costs:');
    output.mls = await measureMlsCosts({ log });
    save();
  }
  if (!args['mls-only']) {
    const maker = new CiphertextMaker();
    try {
      for (const n of DEVICE_COUNTS) await runDevices(n, maker);
    } finally {
      await maker.close();
    }
  }
  output.meta.loadAverageAtEnd = loadavg();
  save();
  printSummary();
}

let currentBench: BenchServer | null = null;
const hardStop = setTimeout(() => {
  output.notes.push(`stopped after --max-minutes ${args['max-minutes']}`);
  save();
  console.error(`relay bench: --max-minutes ${args['max-minutes']} reached, stopping`);
  const stopping = currentBench?.stop() ?? Promise.resolve();
  void stopping.finally(() => process.exit(2));
  setTimeout(() => process.exit(2), 10_000).unref();
}, Number(args['max-minutes']) * 60_000);
hardStop.unref();

try {
  await main();
} catch (err) {
  output.notes.push(`failed: ${(err as Error).stack ?? String(err)}`);
  save();
  console.error(err);
  process.exitCode = 1;
}
// Stops by itself: nothing may keep the process alive after the last server closed.
setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
