/**
 * The last checkpoint of a log this browser has verified, and the key it trusted for it: the
 * "trust on first use, then only accept extensions" memory of a transparency-log client. Kept
 * in localStorage so it outlives the session and the server cannot clear it.
 */
export interface PinnedCheckpoint {
  logId: string;
  origin: string;
  /** C2SP verifier key string the checkpoint was verified with. */
  verifierKey: string;
  size: number;
  /** Standard base64 of the 32-byte root hash. */
  rootHash: string;
  /** The signed note itself, kept as evidence should the log later change history. */
  note: string;
  /** When this browser first saw this checkpoint (ISO instant). */
  seenAt: string;
}

const keyFor = (logId: string) => `consilium.auditCheckpoint.${logId}`;

function isPin(value: unknown, logId: string): value is PinnedCheckpoint {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.logId === logId &&
    typeof v.origin === 'string' &&
    typeof v.verifierKey === 'string' &&
    typeof v.size === 'number' &&
    Number.isSafeInteger(v.size) &&
    typeof v.rootHash === 'string' &&
    typeof v.note === 'string' &&
    typeof v.seenAt === 'string'
  );
}

/** The pinned checkpoint of `logId`, or null when none (or storage is unavailable or garbled). */
export function readPin(logId: string): PinnedCheckpoint | null {
  try {
    const raw = window.localStorage.getItem(keyFor(logId));
    if (!raw) return null;
    const parsed = JSON.parse(raw) as unknown;
    return isPin(parsed, logId) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Pins `pin` unless another tab already pinned a larger checkpoint of the same key (both were
 * verified as extensions, so the larger one is the better anchor).
 */
export function writePin(pin: PinnedCheckpoint): void {
  try {
    const current = readPin(pin.logId);
    if (current && current.verifierKey === pin.verifierKey && current.size > pin.size) return;
    window.localStorage.setItem(keyFor(pin.logId), JSON.stringify(pin));
  } catch {
    // Without storage every visit starts from trust on first use.
  }
}

/** Forgets the pin, after the person has confirmed a key change or a restore out of band. */
export function forgetPin(logId: string): void {
  try {
    window.localStorage.removeItem(keyFor(logId));
  } catch {
    // Nothing stored to forget.
  }
}
