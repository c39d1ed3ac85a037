/**
 * What MLS costs a client in Node, through @consilium/crypto (ts-mls): create a group, add 1, 50
 * and 100 members in one commit, join from a Welcome, and encrypt + decrypt one 1 KiB message,
 * for the default suite and the post-quantum one. Medians of a few repetitions.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  addMembers,
  confirmCommit,
  createDeviceIdentity,
  createGroup,
  DEFAULT_SUITE,
  encryptMessage,
  generateKeyPackages,
  joinGroup,
  POST_QUANTUM_SUITE,
  processMessage,
  type DeviceIdentity,
  type GroupState,
  type KeyPackageBatch,
  type SuiteName,
} from '@consilium/crypto';

export interface MlsCostRow {
  suite: SuiteName;
  operation: string;
  /** Median milliseconds. */
  ms: number;
  /** Spread of the repetitions. */
  minMs: number;
  maxMs: number;
  repetitions: number;
  /** Bytes on the wire, where the operation produces a message. */
  bytes?: Record<string, number>;
}

// A real client asks the directory / key transparency log; the bench accepts every credential.
const acceptAll = async () => true;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

async function people(suite: SuiteName, n: number): Promise<{ identity: DeviceIdentity; batch: KeyPackageBatch; ms: number }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const identity = await createDeviceIdentity({ userId: randomUUID(), deviceId: randomUUID(), ciphersuite: suite });
    const { ms, value: batch } = await timed(() => generateKeyPackages(identity, { count: 1, lastResort: false }));
    out.push({ identity, batch, ms });
  }
  return out;
}

export async function measureMlsCosts(options: { repetitions?: number; messages?: number; log?: (line: string) => void } = {}): Promise<MlsCostRow[]> {
  const reps = options.repetitions ?? 3;
  const messages = options.messages ?? 100;
  const log = options.log ?? (() => {});
  const rows: MlsCostRow[] = [];
  const row = (suite: SuiteName, operation: string, samples: number[], bytes?: Record<string, number>) => {
    rows.push({ suite, operation, ms: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), repetitions: samples.length, ...(bytes && { bytes }) });
    log(`  ${suite === DEFAULT_SUITE ? 'default' : 'post-quantum'} ${operation}: ${median(samples).toFixed(2)} ms`);
  };

  for (const suite of [DEFAULT_SUITE, POST_QUANTUM_SUITE] as SuiteName[]) {
    const creator = await createDeviceIdentity({ userId: randomUUID(), deviceId: randomUUID(), ciphersuite: suite });
    await createGroup({ identity: creator, groupId: randomBytes(16), validateCredential: acceptAll }); // warm-up (suite load)

    const keyPackageMs: number[] = [];
    const createMs: number[] = [];
    for (let r = 0; r < Math.max(reps, 10); r++) {
      createMs.push((await timed(() => createGroup({ identity: creator, groupId: randomBytes(16), validateCredential: acceptAll }))).ms);
    }
    row(suite, 'create group (1 member)', createMs);

    for (const k of [1, 50, 100]) {
      const addMs: number[] = [];
      const joinMs: number[] = [];
      let bytes: Record<string, number> = {};
      for (let r = 0; r < reps; r++) {
        const members = await people(suite, k);
        keyPackageMs.push(...members.map((m) => m.ms));
        const state = await createGroup({ identity: creator, groupId: randomBytes(16), validateCredential: acceptAll });
        const { ms, value: commit } = await timed(() => addMembers(state, members.map((m) => m.batch.published[0]!.keyPackage)));
        addMs.push(ms);
        bytes = { commit: commit.commit.length, welcome: commit.welcome?.length ?? 0 };
        confirmCommit(commit.newState);
        const last = members.at(-1)!;
        joinMs.push(
          (await timed(() => joinGroup({ identity: last.identity, keyPackages: last.batch.secrets, welcome: commit.welcome!, validateCredential: acceptAll }))).ms,
        );
      }
      row(suite, `add ${k} member${k > 1 ? 's' : ''} in one commit`, addMs, bytes);
      row(suite, `join from that Welcome (group of ${k + 1})`, joinMs);
    }
    row(suite, 'make one key package', keyPackageMs);

    // A two-member group: the creator encrypts, the other member decrypts, in order.
    const [other] = await people(suite, 1);
    const created = await createGroup({ identity: creator, groupId: randomBytes(16), validateCredential: acceptAll });
    const added = await addMembers(created, [other!.batch.published[0]!.keyPackage]);
    let sender: GroupState = confirmCommit(added.newState);
    let receiver: GroupState = (await joinGroup({ identity: other!.identity, keyPackages: other!.batch.secrets, welcome: added.welcome!, validateCredential: acceptAll })).state;
    const encryptMs: number[] = [];
    const decryptMs: number[] = [];
    let size = 0;
    const warmUp = 20; // the first messages pay for JIT and key imports; not counted
    for (let i = 0; i < messages + warmUp; i++) {
      const plaintext = randomBytes(1024);
      const e = await timed(() => encryptMessage(sender, plaintext));
      sender = e.value.newState;
      size = e.value.message.length;
      const d = await timed(() => processMessage(receiver, e.value.message));
      receiver = d.value.newState;
      if (d.value.kind !== 'application' || Buffer.compare(Buffer.from(d.value.plaintext), plaintext) !== 0) throw new Error('decryption gave something else');
      if (i < warmUp) continue;
      encryptMs.push(e.ms);
      decryptMs.push(d.ms);
    }
    row(suite, 'encrypt 1 KiB message', encryptMs, { message: size, base64: Math.ceil(size / 3) * 4 });
    row(suite, 'decrypt 1 KiB message', decryptMs);
  }
  return rows;
}
