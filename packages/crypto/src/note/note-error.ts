/** Why a key, note or checkpoint was refused. Branch on `code`; `message` is for people. */
export type NoteErrorCode =
  /** A signer or verifier key string is not in the Go `note` format, or its key ID is wrong. */
  | 'MALFORMED_KEY'
  /** A key is of a signature type other than Ed25519 (0x01). */
  | 'UNSUPPORTED_KEY_TYPE'
  /** The note breaks signed-note §Format (encoding, blank line, signature lines). */
  | 'MALFORMED_NOTE'
  /** Two verifiers given for one note share both key name and key ID. */
  | 'AMBIGUOUS_KEY'
  /** A signature by a known key does not verify: the note was altered or forged. */
  | 'INVALID_SIGNATURE'
  /** No signature by any known key: the text must not be trusted. */
  | 'UNVERIFIED_NOTE'
  /** The note text is not a tlog-checkpoint body. */
  | 'MALFORMED_CHECKPOINT'
  /** A checkpoint from another log than the one expected. */
  | 'ORIGIN_MISMATCH';

export class NoteError extends Error {
  override readonly name = 'NoteError';
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
  }
}
