import { concatBytes, toHex, u16, utf8 } from './bytes.js';
import { encodeDeviceIdentity, type DeviceRef } from './identity.js';
import { DEFAULT_SUITE, signatureSchemeOf, type SuiteName } from './suites.js';

/**
 * A human-comparable fingerprint of a device's signature key, for the "verify this device"
 * screen. It is a display of a hash, not new cryptography:
 *
 *     input  = "Consilium device fingerprint v1" || 0x00
 *              || u16 len || signature scheme name (e.g. "Ed25519")
 *              || u16 len || credential identity ("consilium:v1:<userId>/<deviceId>")
 *              || u16 len || signature public key
 *     digest = SHA-512(input)
 *     groups = for i in 0..11: (big-endian integer of digest[5i .. 5i+5)) mod 100000, as 5 digits
 *
 * The layout of the digits follows Signal's safety numbers (5 bytes -> 5 digits); the
 * identity is inside the hash so a key shown for the wrong person does not match. 60 digits
 * carry ~199 bits: matching someone's fingerprint with another key is a second-preimage
 * search far beyond reach, so unlike Signal we do not iterate the hash.
 */
export const FINGERPRINT_LABEL = 'Consilium device fingerprint v1';
export const FINGERPRINT_GROUPS = 12;

export interface DeviceFingerprint {
  /** 12 groups of 5 digits. */
  readonly groups: readonly string[];
  /** The groups joined by spaces, e.g. for a screen reader or a copy button. */
  readonly text: string;
  /** The full SHA-512 digest in hex, e.g. for a QR code or logs. */
  readonly hex: string;
}

export async function deviceFingerprint(
  device: DeviceRef & { readonly signaturePublicKey: Uint8Array },
  suite: SuiteName = DEFAULT_SUITE,
): Promise<DeviceFingerprint> {
  const field = (b: Uint8Array) => concatBytes(u16(b.length), b);
  const input = concatBytes(
    utf8(FINGERPRINT_LABEL),
    new Uint8Array([0]),
    field(utf8(signatureSchemeOf(suite))),
    field(encodeDeviceIdentity(device)),
    field(device.signaturePublicKey),
  );
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-512', input));
  const groups: string[] = [];
  for (let i = 0; i < FINGERPRINT_GROUPS; i++) {
    let n = 0;
    for (const byte of digest.subarray(5 * i, 5 * i + 5)) n = n * 256 + byte; // < 2^40, exact in a double
    groups.push(String(n % 100000).padStart(5, '0'));
  }
  return { groups, text: groups.join(' '), hex: toHex(digest) };
}
