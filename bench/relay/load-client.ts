/**
 * The load side of the relay bench, in its own process (forked by main.ts) so that it has its own
 * event loop and its own file-descriptor budget: 10k client sockets and 10k server sockets do not
 * fit under one process's limit of 20k descriptors, and client work does not run on the server's
 * thread.
 *
 * It holds one WebSocket per device (cookie-authenticated, as a browser tab), posts pre-built
 * message bodies over HTTP keep-alive (Node's fetch, i.e. undici), and records when each
 * 'message' frame arrives. Everything is driven by IPC messages from main.ts.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { distribution, Samples, type Distribution } from './stats.js';

export interface DeviceLogin {
  id: string;
  cookie: string;
}

export interface BenchConversation {
  id: string;
  senderCookie: string;
  /** Devices that should receive each message (the members other than the sender). */
  recipients: number;
}

export interface PhaseRequest {
  name: string;
  /** closed: keep `concurrency` POSTs in flight; paced: start `rate` POSTs per second. */
  mode: 'closed' | 'paced';
  concurrency: number;
  rate: number;
  seconds: number;
  /** The first seconds are load but not measurement. */
  warmupSeconds: number;
  /** Paced mode: never more than this many POSTs in flight (then the rate is not held). */
  maxInflight: number;
  /** Receivers acknowledge (ack frames, at most one per device every ACK_EVERY_MS). */
  ack: boolean;
}

export interface PhaseResult {
  name: string;
  mode: 'closed' | 'paced';
  windowSeconds: number;
  postsStarted: number;
  postsAccepted: number;
  postsFailed: number;
  failures: Record<string, number>;
  /** Accepted POSTs per second, responses inside the window. */
  acceptedPerSecond: number;
  /** Frames (one message to one device) received inside the window, per second. */
  deliveredPerSecond: number;
  /** Send start -> frame received, for messages sent inside the window, every recipient. */
  latencyMs: Distribution;
  /** Send start -> HTTP 200 (the message is committed), messages sent inside the window. */
  postMs: Distribution;
  expectedDeliveries: number;
  receivedDeliveries: number;
  missingDeliveries: number;
  resyncFrames: number;
  errorFrames: Record<string, number>;
  frameBytes: number;
  /** Pool exhausted before the end: the window was shorter. */
  ranOutOfMessages: boolean;
  paced?: { targetRate: number; heldRate: number; inflightCapHits: number };
  client: { cpuSeconds: number; eventLoopUtilisation: number; rssMiB: number };
}

const ACK_EVERY_MS = 250;
/** Deliveries are keyed by conversation index and seq in one number. */
const SEQ_SPAN = 2 ** 24;

let baseUrl = '';
let sockets: WebSocket[] = [];
let conversations: BenchConversation[] = [];
const conversationIndex = new Map<string, number>();
let pools: string[][] = [];
let poolPos: number[] = [];

// What the receivers saw, while a phase records.
let recording = false;
const recvKey = new Samples();
const recvTime = new Samples();
let resyncFrames = 0;
let errorFrames: Record<string, number> = {};
let frameBytes = 0;
let ackOn = false;
const pendingAcks = new Map<number, Map<string, number>>();

const send = (message: unknown) => process.send!(message);

function onFrame(deviceIndex: number, data: Buffer): void {
  const now = performance.now();
  // The hot path reads conversationId and seq from the head of the frame without parsing the
  // 1.4 KB body: {"type":"message","message":{"conversationId":"<uuid>","seq":N,...
  if (data.length > 60 && data[2] === 0x74 /* t */ && data.toString('latin1', 9, 16) === 'message') {
    const head = data.toString('latin1', 0, 140);
    const c = head.indexOf('"conversationId":"');
    const s = head.indexOf('"seq":', c);
    if (c > 0 && s > 0) {
      const conversationId = head.slice(c + 18, c + 54);
      const seq = Number.parseInt(head.slice(s + 6, s + 20), 10);
      const index = conversationIndex.get(conversationId);
      if (recording && index !== undefined) {
        recvKey.push(index * SEQ_SPAN + seq);
        recvTime.push(now);
        if (frameBytes === 0) frameBytes = data.length;
      }
      if (ackOn) {
        let acks = pendingAcks.get(deviceIndex);
        if (!acks) pendingAcks.set(deviceIndex, (acks = new Map()));
        if ((acks.get(conversationId) ?? 0) < seq) acks.set(conversationId, seq);
      }
      return;
    }
  }
  let frame: { type?: string; code?: string };
  try {
    frame = JSON.parse(data.toString('utf8')) as typeof frame;
  } catch {
    frame = { type: 'unparseable' };
  }
  if (frame.type === 'resync') resyncFrames++;
  else if (frame.type === 'error') errorFrames[frame.code ?? '?'] = (errorFrames[frame.code ?? '?'] ?? 0) + 1;
}

function flushAcks(): void {
  for (const [deviceIndex, acks] of pendingAcks) {
    const ws = sockets[deviceIndex];
    if (ws?.readyState === WebSocket.OPEN) for (const [conversationId, seq] of acks) ws.send(JSON.stringify({ type: 'ack', conversationId, seq }));
  }
  pendingAcks.clear();
}
setInterval(flushAcks, ACK_EVERY_MS).unref();

async function connect(url: string, devices: DeviceLogin[], concurrency: number): Promise<{ ms: number; failed: number; errors: string[] }> {
  baseUrl = url;
  const wsUrl = `${url.replace(/^http/, 'ws')}/api/v1/ws`;
  const started = performance.now();
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  sockets = new Array(devices.length);
  const open = (i: number) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(wsUrl, { headers: { cookie: devices[i]!.cookie }, perMessageDeflate: false });
      sockets[i] = ws;
      let ready = false;
      ws.on('message', (data: Buffer) => {
        if (!ready) {
          ready = true;
          const frame = JSON.parse(data.toString('utf8')) as { type: string };
          if (frame.type !== 'ready') errors.push(`device ${i}: first frame ${frame.type}`);
          return resolve();
        }
        onFrame(i, data);
      });
      ws.on('error', (err) => {
        if (!ready) {
          failed++;
          if (errors.length < 5) errors.push(`device ${i}: ${err.message}`);
          ready = true;
          resolve();
        }
      });
      ws.on('close', (code) => {
        if (!ready) {
          failed++;
          ready = true;
          resolve();
        } else if (recording) errorFrames[`closed ${code}`] = (errorFrames[`closed ${code}`] ?? 0) + 1;
      });
    });
  await Promise.all(
    Array.from({ length: Math.min(concurrency, devices.length) }, async () => {
      while (next < devices.length) await open(next++);
    }),
  );
  return { ms: performance.now() - started, failed, errors };
}

interface Outcome {
  started: number;
  index: number;
  seq: number;
  ended: number;
}

async function runPhase(p: PhaseRequest): Promise<PhaseResult> {
  recvKey.clear();
  recvTime.clear();
  resyncFrames = 0;
  errorFrames = {};
  frameBytes = 0;
  ackOn = p.ack;
  recording = true;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();

  const outcomes: Outcome[] = [];
  const failures: Record<string, number> = {};
  let started = 0;
  let failed = 0;
  let inflight = 0;
  let cursor = 0;
  let ranOut = false;
  const t0 = performance.now();
  const w0 = t0 + p.warmupSeconds * 1000;
  let w1 = t0 + p.seconds * 1000;
  let windowOpen = false;

  /** The next pre-built body, round-robin over conversations that still have some. */
  const nextJob = (): { index: number; body: string } | null => {
    for (let tries = 0; tries < conversations.length; tries++) {
      const index = cursor;
      cursor = (cursor + 1) % conversations.length;
      const pool = pools[index]!;
      if (poolPos[index]! < pool.length) return { index, body: pool[poolPos[index]!++]! };
    }
    return null;
  };

  const post = async (job: { index: number; body: string }): Promise<void> => {
    const conversation = conversations[job.index]!;
    started++;
    inflight++;
    const begin = performance.now();
    try {
      const res = await fetch(`${baseUrl}/api/v1/conversations/${conversation.id}/messages`, {
        method: 'POST',
        headers: { cookie: conversation.senderCookie, 'content-type': 'application/json' },
        body: job.body,
      });
      const text = await res.text();
      const end = performance.now();
      if (res.status === 200) {
        const seq = (JSON.parse(text) as { seq: number }).seq;
        outcomes.push({ started: begin, index: job.index, seq, ended: end });
      } else {
        failed++;
        let code = String(res.status);
        try {
          code = `${res.status} ${(JSON.parse(text) as { error?: { code?: string }; code?: string }).error?.code ?? (JSON.parse(text) as { code?: string }).code ?? ''}`;
        } catch {
          /* keep the status */
        }
        failures[code] = (failures[code] ?? 0) + 1;
      }
    } catch (err) {
      failed++;
      const code = (err as Error).cause ? String(((err as Error).cause as Error).message) : (err as Error).message;
      failures[code] = (failures[code] ?? 0) + 1;
    } finally {
      inflight--;
    }
  };

  const markWindow = () => {
    const now = performance.now();
    if (!windowOpen && now >= w0) {
      windowOpen = true;
      send({ type: 'mark', name: 'window-start' });
    }
  };

  let inflightCapHits = 0;
  if (p.mode === 'closed') {
    const tick = setInterval(markWindow, 5);
    await Promise.all(
      Array.from({ length: p.concurrency }, async () => {
        while (performance.now() < w1) {
          const job = nextJob();
          if (!job) {
            ranOut = true;
            break;
          }
          await post(job);
        }
      }),
    );
    clearInterval(tick);
  } else {
    await new Promise<void>((resolve) => {
      let issued = 0;
      const tick = setInterval(() => {
        const now = performance.now();
        markWindow();
        if (now >= w1) {
          clearInterval(tick);
          return resolve();
        }
        const due = Math.floor(((now - t0) / 1000) * p.rate) - issued;
        for (let i = 0; i < due; i++) {
          if (inflight >= p.maxInflight) {
            inflightCapHits++;
            issued = Math.floor(((now - t0) / 1000) * p.rate); // skip, do not burst later
            break;
          }
          const job = nextJob();
          if (!job) {
            ranOut = true;
            clearInterval(tick);
            return resolve();
          }
          issued++;
          void post(job);
        }
      }, 1);
    });
    while (inflight > 0) await new Promise((r) => setTimeout(r, 5));
  }
  const sendingEnded = performance.now();
  if (ranOut) w1 = Math.min(w1, sendingEnded);
  if (!windowOpen) send({ type: 'mark', name: 'window-start' });
  send({ type: 'mark', name: 'window-end' });

  // Expected deliveries of messages sent inside the window; wait for them (or a quiet spell).
  const sentInWindow = new Map<number, number>();
  let expected = 0;
  const postMs = new Samples();
  let acceptedInWindow = 0;
  for (const o of outcomes) {
    if (o.ended >= w0 && o.ended <= w1) acceptedInWindow++;
    if (o.started < w0 || o.started > w1) continue;
    sentInWindow.set(o.index * SEQ_SPAN + o.seq, o.started);
    expected += conversations[o.index]!.recipients;
    postMs.push(o.ended - o.started);
  }
  const countReceived = () => {
    let n = 0;
    for (let i = 0; i < recvKey.length; i++) if (sentInWindow.has(recvKey.at(i))) n++;
    return n;
  };
  const drainDeadline = performance.now() + 15_000;
  let lastLength = -1;
  let quietSince = performance.now();
  while (performance.now() < drainDeadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (recvKey.length !== lastLength) {
      lastLength = recvKey.length;
      quietSince = performance.now();
      if (countReceived() >= expected) break;
    } else if (performance.now() - quietSince > 2000) break;
  }
  recording = false;
  ackOn = false;
  flushAcks();

  const latency = new Samples();
  let deliveredInWindow = 0;
  let received = 0;
  for (let i = 0; i < recvKey.length; i++) {
    const t = recvTime.at(i);
    if (t >= w0 && t <= w1) deliveredInWindow++;
    const sentAt = sentInWindow.get(recvKey.at(i));
    if (sentAt !== undefined) {
      received++;
      latency.push(t - sentAt);
    }
  }
  const windowSeconds = (w1 - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    name: p.name,
    mode: p.mode,
    windowSeconds,
    postsStarted: started,
    postsAccepted: outcomes.length,
    postsFailed: failed,
    failures,
    acceptedPerSecond: acceptedInWindow / windowSeconds,
    deliveredPerSecond: deliveredInWindow / windowSeconds,
    latencyMs: distribution(latency.view()),
    postMs: distribution(postMs.view()),
    expectedDeliveries: expected,
    receivedDeliveries: received,
    missingDeliveries: expected - received,
    resyncFrames,
    errorFrames,
    frameBytes,
    ranOutOfMessages: ranOut,
    ...(p.mode === 'paced' && { paced: { targetRate: p.rate, heldRate: acceptedInWindow / windowSeconds, inflightCapHits } }),
    client: {
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      eventLoopUtilisation: performance.eventLoopUtilization(elu0).utilization,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
    },
  };
}

type Command =
  | { type: 'connect'; url: string; devices: DeviceLogin[]; concurrency: number }
  | { type: 'conversations'; list: BenchConversation[] }
  /** Ciphertexts (base64) per conversation, in conversation order; wrapped into request bodies here. */
  | { type: 'pool'; ciphertexts: string[][] }
  | { type: 'phase'; request: PhaseRequest }
  | { type: 'close' };

process.on('message', (command: Command) => {
  void (async () => {
    try {
      switch (command.type) {
        case 'connect':
          send({ type: 'connected', ...(await connect(command.url, command.devices, command.concurrency)) });
          break;
        case 'conversations':
          conversations = command.list;
          conversationIndex.clear();
          conversations.forEach((c, i) => conversationIndex.set(c.id, i));
          pools = conversations.map(() => []);
          poolPos = conversations.map(() => 0);
          send({ type: 'ok' });
          break;
        case 'pool':
          // Serialised before the clock starts, so the timed loop only hands strings to fetch.
          pools = command.ciphertexts.map((list) =>
            list.map((body) => JSON.stringify({ clientMessageId: randomUUID(), kind: 'application', epoch: 0, body })),
          );
          poolPos = pools.map(() => 0);
          send({ type: 'ok' });
          break;
        case 'phase':
          send({ type: 'phase-result', result: await runPhase(command.request) });
          break;
        case 'close':
          for (const ws of sockets) ws?.terminate();
          send({ type: 'closed' });
          process.disconnect();
          break;
      }
    } catch (err) {
      send({ type: 'failed', message: (err as Error).stack ?? String(err) });
    }
  })();
});
send({ type: 'started' });
// The driver is gone (finished, or stopped by --max-minutes): so is the load.
process.on('disconnect', () => process.exit(0));
