import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeBase64 } from './base64.js';
import { ED25519_SIGNATURE_TYPE, formatKeyId, isValidKeyName, noteKeyId } from './key-id.js';
import { checkKeyId, decodeKeyField, splitKeyString, typedKey } from './key-string.js';
import { NoteError } from './note-error.js';

const ED25519_PUBLIC_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;

/** A key that checks signatures on notes: signed-note §Verifier keys. */
export interface NoteVerifier {
  readonly name: string;
  /** The uint32 key ID that prefixes this key's signatures. */
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** Whether `signature` (without the key ID prefix) signs `message`. Never throws. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** signed-note §Verifier keys: `<name>+<hex key ID>+base64(0x01 || 32-byte Ed25519 public key)`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError('MALFORMED_KEY', 'invalid key name');
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new NoteError('MALFORMED_KEY', `an Ed25519 public key is ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  const typed = typedKey(publicKey);
  return `${name}+${formatKeyId(noteKeyId(name, typed))}+${encodeBase64(typed)}`;
}

/**
 * Parses a verifier key as Go's note.NewVerifier does, and refuses a key ID that does not
 * match the name and key, a signature type other than Ed25519, or a key that is not a point.
 */
export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const [name = '', keyIdHex = '', keyBase64 = ''] = splitKeyString(verifierKey, 3);
  const typed = decodeKeyField(keyBase64);
  if (typed[0] !== ED25519_SIGNATURE_TYPE) {
    throw new NoteError('UNSUPPORTED_KEY_TYPE', `unsupported signature type ${typed[0]}`);
  }
  const publicKey = typed.slice(1);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new NoteError('MALFORMED_KEY', `an Ed25519 public key is ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  const keyId = checkKeyId(name, keyIdHex, typed);
  if (!ed25519.utils.isValidPublicKey(publicKey, false)) {
    throw new NoteError('MALFORMED_KEY', 'not an Ed25519 public key');
  }
  return ed25519Verifier(name, keyId, publicKey);
}

export function ed25519Verifier(name: string, keyId: number, publicKey: Uint8Array): NoteVerifier {
  const key = publicKey.slice();
  return {
    name,
    keyId,
    publicKey: key.slice(),
    verify(message, signature) {
      if (signature.length !== ED25519_SIGNATURE_SIZE) return false;
      try {
        // zip215: false is RFC 8032 verification, refusing non-canonical encodings, so that
        // a signature has one spelling only.
        return ed25519.verify(signature, message, key, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}
