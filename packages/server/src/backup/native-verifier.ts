import { createPublicKey, verify } from 'node:crypto';
import { parseVerifierKey, type NoteVerifier } from '@consilium/crypto/note';

/** SubjectPublicKeyInfo (RFC 8410) for an Ed25519 public key: this prefix, then the 32 bytes. */
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * The verifier `parseVerifierKey` gives for a signed-note verifier key (the key string is parsed
 * and checked by it), checking signatures with Node's Ed25519 (OpenSSL, RFC 8032 §5.1.7) instead
 * of the pure-JavaScript one: a restore or a verify on a new machine checks every manifest of the
 * chain, and SHA-512 of a 4 MB manifest takes ~2 ms natively against ~70 ms in JavaScript. For
 * backup manifests only, which our own signer makes: OpenSSL and @noble/curves agree on every
 * honest signature, and a forgery fails both (they could differ only on odd encodings a key
 * holder might craft, which the audit log's notes, checked against Go's vectors, do care about).
 */
export function nativeNoteVerifier(verifierKey: string): NoteVerifier {
  const parsed = parseVerifierKey(verifierKey);
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(parsed.publicKey)]), format: 'der', type: 'spki' });
  return {
    name: parsed.name,
    keyId: parsed.keyId,
    publicKey: parsed.publicKey,
    verify: (message, signature) => {
      if (signature.length !== 64) return false;
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}
