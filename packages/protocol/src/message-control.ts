import { z } from 'zod';

/**
 * Edits and deletes travel as ordinary MLS application messages (RFC 9420 §6.3.1 PrivateMessage):
 * the plaintext is one of these envelopes instead of text, so the Delivery Service cannot tell an
 * edit or a delete from a message. Clients apply them by these rules (`applyMessageControl`):
 * only the author of a message may change it, where "author" is the account in the MLS sender's
 * credential of both the original and the control message (never a claim inside the envelope).
 */
export const EDIT_CONTENT_TYPE = 'consilium.edit/v1';
export const DELETE_CONTENT_TYPE = 'consilium.delete/v1';
/** A group's title: encrypted like a message, so the server never holds it (it may name a patient). */
export const TITLE_CONTENT_TYPE = 'consilium.title/v1';
export const MAX_CONVERSATION_TITLE = 100;
export const MAX_MESSAGE_TEXT = 10_000;

export const MessageControl = z.discriminatedUnion('$type', [
  /** Replaces the text of the message at `target` (its sequence number in the conversation). */
  z.strictObject({ $type: z.literal(EDIT_CONTENT_TYPE), target: z.number().int().positive(), text: z.string().min(1).max(MAX_MESSAGE_TEXT) }),
  /** Deletes the message at `target` on every device (its text and attachment keys are dropped). */
  z.strictObject({ $type: z.literal(DELETE_CONTENT_TYPE), target: z.number().int().positive() }),
  /** Names the group (admins of a group only), or clears the name with null. */
  z.strictObject({ $type: z.literal(TITLE_CONTENT_TYPE), title: z.string().trim().min(1).max(MAX_CONVERSATION_TITLE).nullable() }),
]);
export type MessageEditControl = Exclude<MessageControl, { $type: typeof TITLE_CONTENT_TYPE }>;
export type MessageControl = z.infer<typeof MessageControl>;

export function encodeMessageControl(control: MessageControl): string {
  return JSON.stringify(MessageControl.parse(control));
}

/** The control envelope in a decrypted plaintext, or null when it is a message (or a malformed envelope, shown as text). */
export function decodeMessageControl(plaintext: string): MessageControl | null {
  if (!/^\{"\$type":"consilium\.(edit|delete|title)\//.test(plaintext)) return null;
  let json: unknown;
  try {
    json = JSON.parse(plaintext);
  } catch {
    return null;
  }
  const parsed = MessageControl.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** What the rules need of a message in a thread. */
export interface ControllableMessage {
  seq: number | null;
  /** From the MLS sender credential when the message was decrypted (or this account, for own messages). */
  senderAccountId: string;
  text: string;
  attachments?: unknown[] | undefined;
  editedAt?: string | undefined;
  deleted?: boolean | undefined;
}

export type ControlOutcome<T> =
  | { applied: true; messages: T[] }
  | { applied: false; reason: 'unknown-target' | 'not-author' | 'deleted' | 'not-after-target' };

/**
 * Applies an edit or delete from `senderAccountId` (the MLS credential of the control message)
 * sent as message `controlSeq` at `at`. Refused: a target not in the thread (expired, recalled,
 * from before this device joined), a target whose author is someone else, a target already
 * deleted, and a control that does not come after its target (a replayed or forged order).
 */
export function applyMessageControl<T extends ControllableMessage>(
  messages: readonly T[],
  control: MessageEditControl,
  senderAccountId: string,
  controlSeq: number | null,
  at: string,
): ControlOutcome<T> {
  const target = messages.find((m) => m.seq === control.target);
  if (!target) return { applied: false, reason: 'unknown-target' };
  if (target.senderAccountId !== senderAccountId) return { applied: false, reason: 'not-author' };
  if (target.deleted) return { applied: false, reason: 'deleted' };
  if (controlSeq !== null && controlSeq <= control.target) return { applied: false, reason: 'not-after-target' };
  const changed: T =
    control.$type === EDIT_CONTENT_TYPE
      ? { ...target, text: control.text, editedAt: at }
      : { ...target, text: '', attachments: undefined, deleted: true, editedAt: undefined };
  if (control.$type === DELETE_CONTENT_TYPE) delete (changed as ControllableMessage).attachments;
  return { applied: true, messages: messages.map((m) => (m === target ? changed : m)) };
}
