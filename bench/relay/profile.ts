/** Boils a V8 CPU profile of the server thread down to where the time went. */
import { fmt, table } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  seconds: number;
  /** Share of sampled time per area (self time). */
  categories: Record<string, number>;
  /** Functions by self time. */
  self: { name: string; share: number }[];
  /** Functions by inclusive time (time with them on the stack). */
  inclusive: { name: string; share: number }[];
  text: string;
}

function category(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (program)';
  if (/better-sqlite3/.test(url)) return 'better-sqlite3';
  if (/node_modules\/(pg|pg-protocol|pg-pool|pg-types)\//.test(url)) return 'pg driver';
  if (/node_modules\/kysely\//.test(url)) return 'kysely';
  if (/node_modules\/ws\//.test(url)) return 'ws';
  if (/node_modules\/(fastify|find-my-way|avvio|@fastify|fast-json-stringify|light-my-request|secure-json-parse|fastify-type-provider-zod)/.test(url)) return 'fastify';
  if (/node_modules\/zod\//.test(url)) return 'zod';
  if (/node_modules\/(pino|pino-std-serializers|sonic-boom)\//.test(url)) return 'pino';
  if (/node_modules\/ts-mls\/|packages\/crypto\//.test(url)) return 'MLS header (crypto)';
  if (/packages\/server\/src\/audit\//.test(url)) return 'server: audit';
  if (/packages\/server\/src\//.test(url)) return 'server code';
  if (/packages\/protocol\//.test(url)) return 'protocol';
  if (/^node:|internal\//.test(url)) return 'node internals (net, http, streams)';
  if (url === '') return 'native/builtins';
  if (/node_modules\//.test(url)) return `other: ${url.split('node_modules/')[1]!.split('/')[0]}`;
  return 'other';
}

const short = (n: ProfileNode) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, '').replace(/.*\/packages\//, '').replace(/^node:/, 'node:');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
};

export function summariseProfile(profile: CpuProfile, file: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const categories: Record<string, number> = {};
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(profile.samples[i]!)!;
    total += dt;
    const name = short(leaf);
    self.set(name, (self.get(name) ?? 0) + dt);
    const cat = category(leaf.callFrame.url, leaf.callFrame.functionName);
    categories[cat] = (categories[cat] ?? 0) + dt;
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const key = short(byId.get(id)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  const top = (m: Map<string, number>, k: number, filter: (name: string) => boolean = () => true) =>
    [...m].filter(([name]) => filter(name)).sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, t]) => ({ name, share: t / total }));
  const cats = Object.fromEntries(Object.entries(categories).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / total]));
  const selfTop = top(self, 20);
  const inclusiveTop = top(inclusive, 25, (n) => !/^\(root\)|^\(program\)|^\(idle\)|processTicksAndRejections|runMicrotasks|^listOnTimeout|^processTimers/.test(n));
  const pct = (x: number) => `${fmt(x * 100, 1)}%`;
  const text = [
    table(['area (self time)', 'share'], Object.entries(cats).map(([k, v]) => [k, pct(v)])),
    table(['function (self)', 'share'], selfTop.map((r) => [r.name.slice(0, 110), pct(r.share)])),
    table(['function (inclusive)', 'share'], inclusiveTop.map((r) => [r.name.slice(0, 110), pct(r.share)])),
  ].join('\n\n');
  return { file, seconds: total / 1e6, categories: cats, self: selfTop, inclusive: inclusiveTop, text };
}
