import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeBase64 } from './base64.js';
import { ED25519_SIGNATURE_TYPE, formatKeyId, isValidKeyName, noteKeyId } from './key-id.js';
import { checkKeyId, decodeKeyField, splitKeyString, typedKey } from './key-string.js';
import { NoteError } from './note-error.js';
import { formatVerifierKey } from './verifier-key.js';

const ED25519_SEED_SIZE = 32;

/** A key that signs notes. It holds the private seed: keep it on the server that owns it. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** The Ed25519 signature of `message` (RFC 8032, deterministic), without the key ID. */
  sign(message: Uint8Array): Uint8Array;
}

/**
 * The signer key string of Go's sumdb/note: `PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 ||
 * 32-byte seed)`. The key ID is that of the public key, as in the verifier key.
 */
export function formatSignerKey(name: string, seed: Uint8Array): string {
  if (seed.length !== ED25519_SEED_SIZE) {
    throw new NoteError('MALFORMED_KEY', `an Ed25519 seed is ${ED25519_SEED_SIZE} bytes`);
  }
  if (!isValidKeyName(name)) throw new NoteError('MALFORMED_KEY', 'invalid key name');
  const keyId = noteKeyId(name, typedKey(ed25519.getPublicKey(seed)));
  return `PRIVATE+KEY+${name}+${formatKeyId(keyId)}+${encodeBase64(typedKey(seed))}`;
}

/** Parses a signer key as Go's note.NewSigner does, checking the key ID against the public key. */
export function parseSignerKey(signerKey: string): NoteSigner {
  const [private1, private2, name = '', keyIdHex = '', keyBase64 = ''] = splitKeyString(signerKey, 5);
  if (private1 !== 'PRIVATE' || private2 !== 'KEY') {
    throw new NoteError('MALFORMED_KEY', 'signer key does not start with PRIVATE+KEY+');
  }
  const typed = decodeKeyField(keyBase64);
  if (typed[0] !== ED25519_SIGNATURE_TYPE) {
    throw new NoteError('UNSUPPORTED_KEY_TYPE', `unsupported signature type ${typed[0]}`);
  }
  const seed = typed.slice(1);
  if (seed.length !== ED25519_SEED_SIZE) {
    throw new NoteError('MALFORMED_KEY', `an Ed25519 seed is ${ED25519_SEED_SIZE} bytes`);
  }
  const publicKey = ed25519.getPublicKey(seed);
  const keyId = checkKeyId(name, keyIdHex, typedKey(publicKey));
  return {
    name,
    keyId,
    publicKey: publicKey.slice(),
    sign: (message) => ed25519.sign(message, seed),
  };
}

/** A fresh Ed25519 key pair for `name`, as signer and verifier key strings. */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  const seed = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(seed);
  const signerKey = formatSignerKey(name, seed);
  seed.fill(0);
  return { signerKey, verifierKey: formatVerifierKey(name, publicKey) };
}
