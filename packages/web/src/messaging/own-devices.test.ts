import { beforeEach, describe, expect, it } from 'vitest';
import type { Device } from '@consilium/protocol';
import { acknowledgeOwnDevices as acknowledge, unknownOwnDevices as unknown, type DeviceMemory } from './own-devices';

/** The same interface as localStorage, held in memory (tests run in Node). */
class MemoryStorage implements DeviceMemory {
  private readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}
let storage: MemoryStorage;
const unknownOwnDevices = (accountId: string, devices: Device[]) => unknown(accountId, devices, storage);
const acknowledgeOwnDevices = (accountId: string, ids: string[]) => acknowledge(accountId, ids, storage);

const me = '0b6f7a55-3c38-4f0e-9d38-7b1f0b1e7c01';
const device = (id: string, extra: Partial<Device> = {}): Device => ({
  id,
  accountId: me,
  name: 'Chrome on Linux',
  ciphersuite: 1,
  signaturePublicKey: 'AAAA',
  createdAt: '2026-11-23T09:00:00.000Z',
  lastSeenAt: null,
  revokedAt: null,
  current: false,
  unclaimedKeyPackages: 0,
  ...extra,
});
const laptop = '8d2b8f6e-25a4-4c55-9a67-0d0c3a9d7a11';
const phone = '1f3c2e4d-5b6a-4798-8a9b-0c1d2e3f4a5b';
const intruder = '9e8d7c6b-5a49-4382-9716-05f4e3d2c1b0';

describe('own-device watch', () => {
  beforeEach(() => {
    storage = new MemoryStorage();
  });

  it('trusts what is there on the first run, then raises each new device until acknowledged', () => {
    expect(unknownOwnDevices(me, [device(laptop), device(phone)])).toEqual([]);
    expect(unknownOwnDevices(me, [device(laptop), device(phone), device(intruder)]).map((d) => d.id)).toEqual([intruder]);
    expect(unknownOwnDevices(me, [device(laptop), device(phone), device(intruder)]).map((d) => d.id)).toEqual([intruder]);
    acknowledgeOwnDevices(me, [intruder]);
    expect(unknownOwnDevices(me, [device(laptop), device(phone), device(intruder)])).toEqual([]);
  });

  it('ignores revoked devices and other people’s', () => {
    acknowledgeOwnDevices(me, [laptop]);
    expect(unknownOwnDevices(me, [device(laptop), device(intruder, { revokedAt: '2026-11-23T10:00:00.000Z' }), device(phone, { accountId: 'someone-else' })])).toEqual([]);
  });

  it('treats garbled storage as a first run rather than failing', () => {
    storage.setItem(`consilium.knownDevices.${me}`, '{not json');
    expect(unknownOwnDevices(me, [device(laptop)])).toEqual([]);
    expect(unknownOwnDevices(me, [device(laptop), device(phone)]).map((d) => d.id)).toEqual([phone]);
  });
});
