/** Worker thread of CiphertextMaker (ciphertexts.ts): owns sender group states, encrypts on request. */
import { randomFillSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { registerSourceAliases } from './source-aliases.js';
import type { SenderIdentity } from './ciphertexts.js';

registerSourceAliases();
const mls = await import('@consilium/crypto');

const PLAINTEXT_BYTES = 1024;
const groups = new Map<string, Awaited<ReturnType<typeof mls.createGroup>>>();
// Only this device is in the group; a real client answers from the directory / key transparency.
const acceptOwnCredential = async () => true;

async function addSenders(senders: SenderIdentity[]): Promise<void> {
  for (const s of senders) {
    const identity = {
      userId: s.userId,
      deviceId: s.deviceId,
      suite: mls.DEFAULT_SUITE,
      credential: mls.deviceCredential(s),
      signaturePublicKey: s.signaturePublicKey,
      signaturePrivateKey: s.signaturePrivateKey,
    };
    const state = await mls.createGroup({ identity, groupId: new TextEncoder().encode(s.conversationId), validateCredential: acceptOwnCredential });
    groups.set(s.conversationId, state);
  }
}

async function encrypt(conversationIds: string[], counts: number[]): Promise<string[][]> {
  const out: string[][] = [];
  const plaintext = new Uint8Array(PLAINTEXT_BYTES);
  for (let i = 0; i < conversationIds.length; i++) {
    const id = conversationIds[i]!;
    let state = groups.get(id)!;
    const list: string[] = [];
    for (let k = 0; k < counts[i]!; k++) {
      randomFillSync(plaintext);
      const { newState, message } = await mls.encryptMessage(state, plaintext);
      state = newState;
      list.push(Buffer.from(message).toString('base64'));
    }
    groups.set(id, state);
    out.push(list);
  }
  return out;
}

parentPort!.on('message', (m: { id: number; type: string; senders?: SenderIdentity[]; conversationIds?: string[]; counts?: number[] }) => {
  void (async () => {
    try {
      let value: unknown;
      if (m.type === 'senders') await addSenders(m.senders!);
      else if (m.type === 'encrypt') value = await encrypt(m.conversationIds!, m.counts!);
      else if (m.type === 'reset') groups.clear();
      parentPort!.postMessage({ id: m.id, ok: true, value });
    } catch (err) {
      parentPort!.postMessage({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) });
    }
  })();
});
