/**
 * Key transparency for colleagues' device keys: before a device key is trusted in a group, the
 * browser checks that the organisation's key log (a signed Merkle log) holds a `device.added`
 * entry for exactly that key of that person, not revoked since. The log's signing key is trusted
 * on first use and pinned in IndexedDB, so a server that later presents another key is noticed.
 * Every checkpoint must also extend the last one this browser saw (RFC 9162 consistency proof,
 * the same pin-and-extend check the audit console makes), so a server that forks the key log, to
 * show one person a key the others never see, is caught the next time either of them looks.
 * A colleague of a connected organisation has their keys in THEIR organisation's key log
 * (`keys/<organisation>`): the check runs against that log, its own pinned checkpoint and proofs.
 */
import { hashLeaf, verifyInclusion } from '@consilium/crypto/merkle';
import { openCheckpoint, parseVerifierKey } from '@consilium/crypto/note';
import type { AuditLogInfo } from '@consilium/protocol';
import { localGet, localPut } from './local-store';
import { assessLog, pinIfTrusted } from '../audit/log-check';
import { readPin } from '../audit/checkpoint-pin';

export interface KeyLogApi {
  getKeyLog(organisationId?: string): Promise<AuditLogInfo>;
  getDeviceKeyEntries(deviceId: string): Promise<{ accountId: string; logId: string; entries: { index: number; leaf: string }[] }>;
  getKeyInclusionProof(index: number, size: number, organisationId?: string): Promise<{ index: number; size: number; proof: string[] }>;
  getKeyConsistencyProof(from: number, to: number, organisationId?: string): Promise<{ from: number; to: number; proof: string[] }>;
}

const KEY_LOG_PREFIX = 'keys/';

/** The key log's history is not what this browser saw before: nothing it presents can be trusted. */
export class KeyLogForked extends Error {
  override readonly name = 'KeyLogForked';
}

interface KeyLeaf {
  log?: string;
  index?: number;
  type?: string;
  actor?: { accountId?: string };
  entity?: { type?: string; id?: string };
  detail?: { signaturePublicKey?: string };
}

const fromB64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checkpoints are signed about once a second: a key registered just now may not be covered yet. */
const COVERAGE_ATTEMPTS = 8;

export class KeyTransparency {
  private readonly verified = new Map<string, Promise<boolean>>();

  constructor(private readonly api: KeyLogApi) {}

  /** True when the log proves `accountId`'s device `deviceId` has key `keyB64` and it is not revoked. */
  check(accountId: string, deviceId: string, keyB64: string): Promise<boolean> {
    const id = `${accountId}/${deviceId}/${keyB64}`;
    let result = this.verified.get(id);
    if (!result) {
      result = this.checkNow(accountId, deviceId, keyB64);
      // Only a positive answer is kept: a failure (or a network error) is asked again next time.
      result.then(
        (ok) => ok || this.verified.delete(id),
        () => this.verified.delete(id),
      );
      this.verified.set(id, result);
    }
    return result;
  }

  private async checkNow(accountId: string, deviceId: string, keyB64: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      // The entries name the log the key was registered in: the owner's organisation's.
      const { entries, accountId: owner, logId } = await this.api.getDeviceKeyEntries(deviceId);
      if (owner !== accountId || entries.length === 0 || !logId.startsWith(KEY_LOG_PREFIX)) return false;
      const organisationId = logId.slice(KEY_LOG_PREFIX.length);
      const log = await this.api.getKeyLog(organisationId);
      // Never check one log's entries against another log's checkpoint.
      if (log.logId !== logId) return false;
      const assessment = await assessLog(log, readPin(log.logId), (from, to) => this.api.getKeyConsistencyProof(from, to, organisationId));
      if (assessment.kind === 'key-changed') throw new KeyLogForked('the key log is signed with another key than before');
      if (assessment.kind === 'history-changed') throw new KeyLogForked(`the key log no longer extends the checkpoint of size ${assessment.pinned.size} this browser saw`);
      if (assessment.kind === 'invalid-checkpoint') throw new KeyLogForked(`the key log checkpoint does not verify: ${assessment.reason}`);
      pinIfTrusted(assessment);
      const pinKey = `key-log-verifier:${log.logId}`;
      const pinned = await localGet<string>(pinKey);
      if (pinned && pinned !== log.verifierKey) throw new Error('the key log is signed with another key than before');
      if (!pinned) await localPut({ [pinKey]: log.verifierKey });
      const checkpoint = log.checkpoint ? openCheckpoint(log.checkpoint, [parseVerifierKey(log.verifierKey)], log.origin).checkpoint : null;
      const size = checkpoint?.size ?? 0;
      if (!checkpoint || entries.some((e) => e.index >= size)) {
        if (attempt >= COVERAGE_ATTEMPTS) return false;
        await sleep(500);
        continue;
      }
      let current: string | null = null;
      for (const entry of [...entries].sort((x, y) => x.index - y.index)) {
        const proof = await this.api.getKeyInclusionProof(entry.index, size, organisationId);
        const leafHash = hashLeaf(new TextEncoder().encode(entry.leaf));
        if (!verifyInclusion(leafHash, entry.index, size, proof.proof.map(fromB64), checkpoint.rootHash)) return false;
        const leaf = JSON.parse(entry.leaf) as KeyLeaf;
        if (leaf.log !== log.logId || leaf.index !== entry.index) return false;
        if (leaf.entity?.type !== 'device' || leaf.entity.id !== deviceId || leaf.actor?.accountId !== accountId) return false;
        if (leaf.type === 'device.added') current = leaf.detail?.signaturePublicKey ?? null;
        if (leaf.type === 'device.revoked') current = null;
      }
      return current === keyB64;
    }
  }
}
