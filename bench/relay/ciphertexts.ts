/**
 * Real MLS PrivateMessages for the bench, made before the clock starts, in worker threads (the
 * server's thread stays idle meanwhile; client-side crypto is not what the bench measures).
 *
 * Each conversation's sender device creates its own one-member MLS group whose group id is the
 * UTF-8 of the conversation id, at epoch 0, with its registered identity (the Ed25519 key it
 * uploaded), and encrypts 1 KiB of random plaintext per message. The server checks exactly what
 * it checks for any client: the clear header (group id, epoch, content type). The other members
 * never joined that MLS group (their membership is recorded in the database only), so they could
 * not decrypt; the relay does not need them to.
 */
import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';

export interface SenderIdentity {
  conversationId: string;
  userId: string;
  deviceId: string;
  signaturePublicKey: Uint8Array;
  signaturePrivateKey: Uint8Array;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** A small pool of workers, each owning the group states of the conversations it was given. */
export class CiphertextMaker {
  private readonly workers: Worker[];
  private readonly owner = new Map<string, number>();
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 0;
  private failure: Error | null = null;
  private assigned = 0;

  constructor(threads = Math.max(1, Math.min(2, cpus().length))) {
    // Node 20 does not carry tsx's loader hooks into worker threads: register them first.
    const bootstrap = `const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))});
register();
await import(${JSON.stringify(new URL('./ciphertext-worker.ts', import.meta.url).href)});`;
    this.workers = Array.from({ length: threads }, () => {
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`));
      worker.on('message', (reply: Reply) => {
        const w = this.waiting.get(reply.id);
        if (!w) return;
        this.waiting.delete(reply.id);
        if (reply.ok) w.resolve(reply.value);
        else w.reject(new Error(reply.error));
      });
      worker.on('error', (err) => {
        this.failure = err;
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      });
      return worker;
    });
  }

  private call<T>(worker: number, message: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.workers[worker]!.postMessage({ ...message, id });
    });
  }

  /** Creates each sender's group (epoch 0) in the worker that will encrypt for it. */
  async addSenders(senders: SenderIdentity[]): Promise<void> {
    const perWorker = this.workers.map(() => [] as SenderIdentity[]);
    for (const s of senders) {
      const w = this.assigned++ % this.workers.length;
      this.owner.set(s.conversationId, w);
      perWorker[w]!.push(s);
    }
    await Promise.all(perWorker.map((list, w) => (list.length ? this.call(w, { type: 'senders', senders: list }) : undefined)));
  }

  /** `counts[i]` messages for `conversationIds[i]`; base64 MLSMessages, in sending order. */
  async encrypt(conversationIds: string[], counts: number[]): Promise<string[][]> {
    const perWorker = this.workers.map(() => ({ ids: [] as string[], counts: [] as number[], at: [] as number[] }));
    conversationIds.forEach((id, i) => {
      const w = this.owner.get(id);
      if (w === undefined) throw new Error(`no sender group for ${id}`);
      perWorker[w]!.ids.push(id);
      perWorker[w]!.counts.push(counts[i]!);
      perWorker[w]!.at.push(i);
    });
    const out: string[][] = conversationIds.map(() => []);
    await Promise.all(
      perWorker.map(async (job, w) => {
        if (!job.ids.length) return;
        const lists = await this.call<string[][]>(w, { type: 'encrypt', conversationIds: job.ids, counts: job.counts });
        lists.forEach((list, k) => (out[job.at[k]!] = list));
      }),
    );
    return out;
  }

  /** Forgets the groups (the next server gets new conversations). */
  async reset(): Promise<void> {
    this.owner.clear();
    await Promise.all(this.workers.map((_, w) => this.call(w, { type: 'reset' })));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
