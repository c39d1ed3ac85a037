import { decodePrivateMessage, decodeWelcome } from './wire.js';
import { MlsError } from './errors.js';

/** What a Delivery Service may read of a group message: the clear PrivateMessage header (RFC 9420 §6.3). */
export interface MessageHeader {
  groupId: Uint8Array;
  epoch: number;
  contentType: 'application' | 'proposal' | 'commit';
}

/**
 * Reads the header of a PrivateMessage without decrypting it. Refuses anything that is not a
 * single, well-formed PrivateMessage (group traffic is always private here).
 */
export function readMessageHeader(bytes: Uint8Array): MessageHeader {
  const m = decodePrivateMessage(bytes);
  if (m.epoch > BigInt(Number.MAX_SAFE_INTEGER)) throw new MlsError('INVALID_MESSAGE', 'epoch out of range');
  return { groupId: m.groupId, epoch: Number(m.epoch), contentType: m.contentType };
}

/** Checks that bytes are one well-formed Welcome message (the server cannot read more of it). */
export function assertWelcome(bytes: Uint8Array): void {
  decodeWelcome(bytes);
}
