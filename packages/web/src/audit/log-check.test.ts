import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditLogInfo } from '@consilium/protocol';
import { consistencyProof, hashLeaf, rootFromLeafHashes } from '@consilium/crypto/merkle';
import { formatCheckpoint, generateNoteKey, parseSignerKey, signNote } from '@consilium/crypto/note';
import { assessLog } from './log-check';
import type { PinnedCheckpoint } from './checkpoint-pin';

// The browser's side of the transparency log (issue 4): the pin-and-extend check that the audit
// console and the key-transparency check of colleagues' device keys both run. The "server" here is
// a real Merkle log with a real Ed25519 log key, built in the test, that lies in the ways the issue
// names: a swapped key, a forked history, a rolled-back (truncated) log, a forged note.

const ORIGIN = 'consilium.test/audit/org-1';
const LOG_ID = 'org-1';
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const leaves = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => hashLeaf(new TextEncoder().encode(`${prefix} entry ${i}`)));

/** A log as its server presents it: signed checkpoints and consistency proofs over its own leaves. */
function serverLog(signerKey: string, verifierKey: string, leafHashes: Uint8Array[]) {
  const signer = parseSignerKey(signerKey);
  return {
    info(size: number): AuditLogInfo {
      const note = signNote(formatCheckpoint({ origin: ORIGIN, size, rootHash: rootFromLeafHashes(leafHashes.slice(0, size)), extensions: [] }), [signer]);
      return { logId: LOG_ID, origin: ORIGIN, verifierKey, size, checkpoint: note };
    },
    proof: async (from: number, to: number) => ({ from, to, proof: consistencyProof(leafHashes, from, to).map(b64) }),
    pin(size: number): PinnedCheckpoint {
      const info = this.info(size);
      return { logId: LOG_ID, origin: ORIGIN, verifierKey, size, rootHash: b64(rootFromLeafHashes(leafHashes.slice(0, size))), note: info.checkpoint!, seenAt: '2026-01-01T00:00:00.000Z' };
    },
  };
}

const key = generateNoteKey('consilium.test');
const history = leaves('honest', 40);
const honest = serverLog(key.signerKey, key.verifierKey, history);

beforeAll(() => {
  // log-check decodes base64 with window.atob; Node has the same function on globalThis.
  vi.stubGlobal('window', globalThis);
});
afterAll(() => vi.unstubAllGlobals());

describe('assessLog: trust on first use, then only extensions', () => {
  it('trusts a first checkpoint whose signature verifies, and a later one proven to extend it', async () => {
    const first = await assessLog(honest.info(9), null, honest.proof);
    expect(first).toMatchObject({ kind: 'trusted', checkpoint: { size: 9 } });
    const later = await assessLog(honest.info(40), honest.pin(9), honest.proof);
    expect(later).toMatchObject({ kind: 'trusted', checkpoint: { size: 40 }, previous: { size: 9 } });
    // The same checkpoint again is its own extension (no proof needed).
    expect((await assessLog(honest.info(40), honest.pin(40), honest.proof)).kind).toBe('trusted');
  });

  it('a forked log (the first entries rewritten, validly signed, with proofs true to the fork) is a changed history', async () => {
    const forked = serverLog(key.signerKey, key.verifierKey, [...leaves('forged', 5), ...history.slice(5)]);
    const seen = honest.pin(9);
    expect(await assessLog(forked.info(40), seen, forked.proof)).toMatchObject({ kind: 'history-changed', pinned: { size: 9 }, presented: { size: 40 } });
    // The fork at the size this browser saw: same size, another root.
    expect((await assessLog(forked.info(9), seen, forked.proof)).kind).toBe('history-changed');
  });

  it('a log rolled back below what this browser saw (truncation) is a changed history', async () => {
    expect((await assessLog(honest.info(8), honest.pin(9), honest.proof)).kind).toBe('history-changed');
  });

  it('a proof for other sizes than asked, or one that does not lead to the new root, is refused', async () => {
    const otherSizes = async (from: number, to: number) => honest.proof(from - 1, to);
    expect((await assessLog(honest.info(40), honest.pin(9), otherSizes)).kind).toBe('history-changed');
    const garbled = async (from: number, to: number) => {
      const p = await honest.proof(from, to);
      return { ...p, proof: [b64(new Uint8Array(32)), ...p.proof.slice(1)] };
    };
    expect((await assessLog(honest.info(40), honest.pin(9), garbled)).kind).toBe('history-changed');
  });

  it('a server that swaps the log key is noticed before anything is read with it', async () => {
    const other = generateNoteKey('consilium.test');
    const swapped = serverLog(other.signerKey, other.verifierKey, history);
    let asked = 0;
    const proof = async (from: number, to: number) => (asked++, swapped.proof(from, to));
    expect(await assessLog(swapped.info(40), honest.pin(9), proof)).toMatchObject({ kind: 'key-changed', pinned: { verifierKey: key.verifierKey } });
    expect(asked).toBe(0);
  });

  it('a note signed by another key under the pinned key name, or for another origin, does not verify', async () => {
    const impostor = generateNoteKey('consilium.test');
    const forged = serverLog(impostor.signerKey, key.verifierKey, history);
    expect(await assessLog(forged.info(40), null, forged.proof)).toMatchObject({ kind: 'invalid-checkpoint' });
    const elsewhere = { ...honest.info(40), origin: 'consilium.test/audit/org-2' };
    expect((await assessLog(elsewhere, null, honest.proof)).kind).toBe('invalid-checkpoint');
    expect((await assessLog(elsewhere, honest.pin(9), honest.proof)).kind).toBe('key-changed');
  });
});
