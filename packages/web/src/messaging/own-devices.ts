/**
 * The devices this browser knows to be its person's own. A server that quietly adds a device to
 * someone's account (to read their conversations) is the attack key transparency exists for: the
 * user is the only one who can tell whether a new device is theirs. The first run trusts what is
 * there; after that, every active device not seen before is raised until the user says it was them
 * (or revokes it). Kept in localStorage, so the server cannot clear it.
 */
import type { Device } from '@consilium/protocol';

const keyFor = (accountId: string) => `consilium.knownDevices.${accountId}`;

export type DeviceMemory = Pick<Storage, 'getItem' | 'setItem'>;
const browserStorage = (): DeviceMemory => window.localStorage;

function read(accountId: string, storage: DeviceMemory): Set<string> | null {
  try {
    const raw = storage.getItem(keyFor(accountId));
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? new Set(parsed.filter((x): x is string => typeof x === 'string')) : null;
  } catch {
    return null;
  }
}

function write(accountId: string, ids: Set<string>, storage: DeviceMemory): void {
  try {
    storage.setItem(keyFor(accountId), JSON.stringify([...ids]));
  } catch {
    /* storage unavailable: the alert shows again next time, which errs on the safe side */
  }
}

/** Records devices as the person's own (this browser's device, or ones the user confirmed). */
export function acknowledgeOwnDevices(accountId: string, deviceIds: readonly string[], storage: DeviceMemory = browserStorage()): void {
  const known = read(accountId, storage) ?? new Set<string>();
  for (const id of deviceIds) known.add(id);
  write(accountId, known, storage);
}

/** Active devices of the account this browser has not seen before (none on the very first run). */
export function unknownOwnDevices(accountId: string, devices: readonly Device[], storage: DeviceMemory = browserStorage()): Device[] {
  const active = devices.filter((d) => d.accountId === accountId && !d.revokedAt);
  const known = read(accountId, storage);
  if (known === null) {
    acknowledgeOwnDevices(
      accountId,
      active.map((d) => d.id),
      storage,
    );
    return [];
  }
  return active.filter((d) => !known.has(d.id));
}
