import { createHash, createHmac } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NoteSigner, NoteVerifier } from '@consilium/crypto/note';
import type { ChainHead, ChainHeadMemo } from './chain.js';

/**
 * The backup writer's memory of manifest signatures it has already checked (or made), so that
 * the chain check at the start of each backup verifies with Ed25519 only the manifests it has
 * not seen before: at full size one manifest is ~4 MB and its signature check ~0.1 s in
 * JavaScript, once per kept snapshot per run otherwise.
 *
 * An entry is HMAC-SHA-256, under a key derived from the writer's dedup key (itself derived from
 * the backup signing key), of the verifier key (name, id, public key), the SHA-256 of the signed
 * message and the signature: a note whose text or signature differs in any bit is verified again, and
 * only a holder of the signing key (who could sign anything) can make an entry. The file lives
 * in the data directory beside that key. `consilium backup verify` never uses it: it checks every
 * signature against the pinned verifier key.
 *
 * It also remembers each opened manifest's head (seq, snapshot id, predecessor) by the manifest's
 * hash, the SHA-256 of its whole signed note, each under its own HMAC: the chain check at the
 * start of a backup then opens again only manifests whose exact bytes it has not opened before
 * (chain.ts, readChainForWriter), and runs every chain check on the heads.
 */
export const VERIFIED_FILE = '.backup-verified.json';
/** Entries kept (newest last): far more than any retention keeps. */
const MAX_ENTRIES = 5000;

export interface VerifiedManifests extends ChainHeadMemo {
  /** Verifies as `verifier` does, skipping signatures already verified; remembers new ones. */
  verifier: NoteVerifier;
  /** Signs as `signer` does and remembers the signature (the next run need not verify it). */
  signer: NoteSigner;
  /** Real Ed25519 verifications done so far (tests). */
  readonly checked: number;
  /** Writes the entries (atomically); a failure to write only costs the next run time. */
  save(): Promise<void>;
}

export async function verifiedManifests(dataDir: string, dedupKey: Buffer, verifier: NoteVerifier, signer: NoteSigner): Promise<VerifiedManifests> {
  const file = path.join(dataDir, VERIFIED_FILE);
  const macKey = createHmac('sha256', dedupKey).update('consilium-backup verified manifests v1').digest();
  let entries: string[] = [];
  let storedHeads: StoredHead[] = [];
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { entries?: unknown; heads?: unknown };
    if (Array.isArray(parsed.entries)) entries = parsed.entries.filter((e): e is string => typeof e === 'string' && /^[0-9a-f]{64}$/.test(e));
    if (Array.isArray(parsed.heads)) storedHeads = parsed.heads.filter(isStoredHead);
  } catch {
    /* missing or unreadable: every signature is verified, every manifest opened */
  }
  const headMac = (hash: string, h: ChainHead) =>
    createHmac('sha256', macKey).update(`head\n${verifier.name}\n${verifier.keyId}\n${hash}\n${h.seq}\n${h.snapshotId}\n${h.previous ?? ''}`).digest('hex');
  // Only heads whose HMAC holds: a head written by anyone without the key is not taken.
  const heads = new Map<string, ChainHead>();
  storedHeads = storedHeads.filter((h) => {
    const head = { seq: h.seq, snapshotId: h.snapshotId, previous: h.previous };
    if (headMac(h.hash, head) !== h.mac || heads.has(h.hash)) return false;
    heads.set(h.hash, head);
    return true;
  });
  const addedHeads: StoredHead[] = [];
  const known = new Set(entries);
  const added: string[] = [];
  const entry = (message: Uint8Array, signature: Uint8Array) => {
    const mac = createHmac('sha256', macKey);
    mac.update(`${verifier.name}\n${verifier.keyId}\n`);
    mac.update(verifier.publicKey);
    mac.update(createHash('sha256').update(message).digest());
    mac.update(signature);
    return mac.digest('hex');
  };
  const remember = (e: string) => {
    if (known.has(e)) return;
    known.add(e);
    added.push(e);
  };
  let checked = 0;
  return {
    head: (hash) => heads.get(hash),
    rememberHead(hash, head) {
      if (heads.has(hash)) return;
      heads.set(hash, head);
      addedHeads.push({ hash, ...head, mac: headMac(hash, head) });
    },
    verifier: {
      name: verifier.name,
      keyId: verifier.keyId,
      publicKey: verifier.publicKey,
      verify(message, signature) {
        const e = entry(message, signature);
        if (known.has(e)) return true;
        checked++;
        const ok = verifier.verify(message, signature);
        if (ok) remember(e);
        return ok;
      },
    },
    signer: {
      name: signer.name,
      keyId: signer.keyId,
      publicKey: signer.publicKey,
      sign(message) {
        const signature = signer.sign(message);
        // Only a signature the verifier accepts would be looked up; the keys are one pair.
        if (signer.name === verifier.name && signer.keyId === verifier.keyId && Buffer.from(signer.publicKey).equals(Buffer.from(verifier.publicKey))) remember(entry(message, signature));
        return signature;
      },
    },
    get checked() {
      return checked;
    },
    async save() {
      if (added.length === 0 && addedHeads.length === 0) return;
      const all = [...entries, ...added].slice(-MAX_ENTRIES);
      const allHeads = [...storedHeads, ...addedHeads].slice(-MAX_ENTRIES);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify({ entries: all, heads: allHeads }) + '\n', { mode: 0o600 });
        await rename(tmp, file);
      } catch {
        /* the next run verifies again */
      }
    },
  };
}

interface StoredHead extends ChainHead {
  hash: string;
  mac: string;
}

function isStoredHead(h: unknown): h is StoredHead {
  const o = h as Partial<StoredHead> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.hash === 'string' &&
    /^[0-9a-f]{64}$/.test(o.hash) &&
    Number.isSafeInteger(o.seq) &&
    typeof o.snapshotId === 'string' &&
    (o.previous === null || typeof o.previous === 'string') &&
    typeof o.mac === 'string'
  );
}
