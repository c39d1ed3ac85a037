/**
 * Standard padded base64 (RFC 4648 §4), the only encoding signed-note and tlog-checkpoint use.
 * Written out here because the package runs in browsers and Node alike, and because decoding
 * must be strict: `atob` and Node's Buffer accept missing padding, whitespace and stray bits,
 * which would let one signature or root hash have several spellings.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUES = new Map([...ALPHABET].map((char, value) => [char, value]));

export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] as number;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    const n = (b0 << 16) | ((b1 ?? 0) << 8) | (b2 ?? 0);
    out += ALPHABET[(n >> 18) & 63];
    out += ALPHABET[(n >> 12) & 63];
    out += b1 === undefined ? '=' : ALPHABET[(n >> 6) & 63];
    out += b2 === undefined ? '=' : ALPHABET[n & 63];
  }
  return out;
}

/**
 * Decodes canonical standard padded base64, or answers undefined: wrong length, characters
 * outside the alphabet, misplaced padding, or unused bits that are not zero.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const char = text[i + j] as string;
      const isPadding = i + 4 === text.length && j >= 4 - padding;
      const value = isPadding ? 0 : VALUES.get(char);
      if (value === undefined) return undefined;
      n = (n << 6) | value;
    }
    out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  // Re-encoding catches non-zero unused bits (e.g. "...mn=" for "...mk="): one spelling only.
  return encodeBase64(out) === text ? out : undefined;
}
