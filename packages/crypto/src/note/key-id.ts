import { sha256 } from '@noble/hashes/sha2.js';

/** signed-note §Signature types: 0x01 is Ed25519, the only type this package signs or verifies. */
export const ED25519_SIGNATURE_TYPE = 0x01;

const encoder = new TextEncoder();

/**
 * signed-note §Signatures: key ID = SHA-256(key name || 0x0A || signature type || public key)[:4],
 * read as a big-endian uint32. `typedPublicKey` is the signature type byte followed by the key.
 */
export function noteKeyId(name: string, typedPublicKey: Uint8Array): number {
  const nameBytes = encoder.encode(name);
  const input = new Uint8Array(nameBytes.length + 1 + typedPublicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input.set(typedPublicKey, nameBytes.length + 1);
  const digest = sha256(input);
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false);
}

/** The key ID as it appears in key strings: eight lowercase hex digits (Go's %08x). */
export function formatKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/**
 * signed-note §Format: key names are non-empty and contain no Unicode space and no '+'.
 * `\p{White_Space}` is the set Go's unicode.IsSpace tests, which the reference implementation
 * uses; control characters and lone surrogates could never appear in a valid note either.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\p{White_Space}\p{Cc}+]/u.test(name) && !/\p{Cs}/u.test(name);
}
