import { decodeMlsMessage, encodeMlsMessage, type KeyPackage, type MLSMessage, type PrivateMessage, type Welcome } from 'ts-mls';
import { MlsError, type MlsErrorCode } from './errors.js';

/**
 * MLSMessage (RFC 9420 §6) encoding and strict decoding: the whole buffer must be one message,
 * of the expected wire format; anything else is refused with `code`.
 */
export function decodeMessage(bytes: Uint8Array, code: MlsErrorCode): MLSMessage {
  let decoded: [MLSMessage, number] | undefined;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch (err) {
    throw new MlsError(code, 'not an MLS message', { cause: err });
  }
  if (decoded === undefined || decoded[1] !== bytes.length) throw new MlsError(code, 'not an MLS message');
  return decoded[0];
}

export function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  const m = decodeMessage(bytes, 'KEY_PACKAGE_INVALID');
  if (m.wireformat !== 'mls_key_package') throw new MlsError('KEY_PACKAGE_INVALID', `expected a key package, got ${m.wireformat}`);
  return m.keyPackage;
}

export function decodeWelcome(bytes: Uint8Array): Welcome {
  const m = decodeMessage(bytes, 'INVALID_MESSAGE');
  if (m.wireformat !== 'mls_welcome') throw new MlsError('INVALID_MESSAGE', `expected a Welcome, got ${m.wireformat}`);
  return m.welcome;
}

/** Group traffic is always PrivateMessage: handshakes too, so the server sees no membership detail. */
export function decodePrivateMessage(bytes: Uint8Array): PrivateMessage {
  const m = decodeMessage(bytes, 'INVALID_MESSAGE');
  if (m.wireformat !== 'mls_private_message') {
    throw new MlsError('INVALID_MESSAGE', `expected a private message, got ${m.wireformat}`);
  }
  return m.privateMessage;
}

export const encodeKeyPackage = (keyPackage: KeyPackage): Uint8Array =>
  encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage });

export const encodeWelcome = (welcome: Welcome): Uint8Array =>
  encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome });

export const encodePrivateMessage = (privateMessage: PrivateMessage): Uint8Array =>
  encodeMlsMessage({ version: 'mls10', wireformat: 'mls_private_message', privateMessage });

export const encodeMessage = (message: MLSMessage): Uint8Array => encodeMlsMessage(message);
