import { describe, expect, it } from 'vitest';
import {
  createDeviceIdentity,
  DEFAULT_SUITE,
  deviceFingerprint,
  encodeDeviceIdentity,
  parseDeviceCredential,
  parseDeviceIdentity,
  POST_QUANTUM_SUITE,
  supportedSuites,
  type MlsErrorCode,
} from './index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const USER = '0b6f6c4e-6a43-4d53-9a43-2f1f4d7f3e21';
const DEVICE = 'c4a1f0de-1d1b-4b8e-8d6e-5b1b9e0f7a10';

function throwsWith(fn: () => unknown, code: MlsErrorCode): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'MlsError', code }));
}

describe('device identity', () => {
  it('encodes userId and deviceId in a BasicCredential and parses them back', async () => {
    const identity = await createDeviceIdentity({ userId: USER, deviceId: DEVICE });
    expect(identity.suite).toBe(DEFAULT_SUITE);
    expect(identity.signaturePublicKey).toHaveLength(32); // Ed25519
    expect(new TextDecoder().decode(identity.credential.identity)).toBe(`consilium:v1:${USER}/${DEVICE}`);
    expect(parseDeviceCredential(identity.credential)).toEqual({ userId: USER, deviceId: DEVICE });
  });

  it('accepts only the canonical encoding', () => {
    for (const bad of [
      `${USER}/${DEVICE}`,
      `consilium:v1:${USER}`,
      `consilium:v1:${USER}/${DEVICE}/x`,
      `consilium:v1:/${DEVICE}`,
      `consilium:v2:${USER}/${DEVICE}`,
      `consilium:v1:${USER} /${DEVICE}`,
    ]) {
      throwsWith(() => parseDeviceIdentity(utf8(bad)), 'INVALID_CREDENTIAL');
    }
    throwsWith(() => parseDeviceIdentity(new Uint8Array([0xff, 0xfe])), 'INVALID_CREDENTIAL');
    throwsWith(() => parseDeviceCredential({ credentialType: 'x509' }), 'INVALID_CREDENTIAL');
    throwsWith(() => encodeDeviceIdentity({ userId: 'a/b', deviceId: 'c' }), 'INVALID_ARGUMENT');
    throwsWith(() => encodeDeviceIdentity({ userId: '', deviceId: 'c' }), 'INVALID_ARGUMENT');
  });

  it('lists the supported suites by name, with the post-quantum option', () => {
    const suites = supportedSuites();
    expect(suites.map((s) => [s.name, s.id, s.postQuantum])).toEqual([
      ['MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519', 1, false],
      ['MLS_256_XWING_AES256GCM_SHA512_Ed25519', 83, true],
    ]);
    expect(suites.find((s) => s.name === POST_QUANTUM_SUITE)?.optionalDependencies).toEqual(['@hpke/hybridkem-x-wing']);
  });
});

describe('safety fingerprint', () => {
  it('is 12 groups of 5 digits, stable for a key and identity, different otherwise', async () => {
    const a = await createDeviceIdentity({ userId: USER, deviceId: DEVICE });
    const b = await createDeviceIdentity({ userId: USER, deviceId: DEVICE });
    const fa = await deviceFingerprint(a);
    expect(fa.groups).toHaveLength(12);
    expect(fa.text).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(fa.hex).toMatch(/^[0-9a-f]{128}$/);
    expect((await deviceFingerprint({ ...a })).text).toBe(fa.text);
    expect((await deviceFingerprint(b)).text).not.toBe(fa.text);
    expect((await deviceFingerprint({ ...a, deviceId: 'other-device' })).text).not.toBe(fa.text);
  });

  it('matches the documented construction', async () => {
    const key = new Uint8Array(32).fill(7);
    const f = await deviceFingerprint({ userId: 'u', deviceId: 'd', signaturePublicKey: key });
    const label = utf8('Consilium device fingerprint v1');
    const field = (b: Uint8Array) => [b.length >> 8, b.length & 0xff, ...b];
    const input = new Uint8Array([...label, 0, ...field(utf8('Ed25519')), ...field(utf8('consilium:v1:u/d')), ...field(key)]);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-512', input));
    const first = digest.subarray(0, 5).reduce((n, x) => n * 256 + x, 0) % 100000;
    expect(f.groups[0]).toBe(String(first).padStart(5, '0'));
  });
});
