import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.js';

describe('strict standard base64', () => {
  it('matches RFC 4648 for every length up to 40 bytes', () => {
    for (let length = 0; length <= 40; length++) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 97 + length * 31) & 255);
      const text = Buffer.from(bytes).toString('base64');
      expect(encodeBase64(bytes)).toBe(text);
      expect(decodeBase64(text)).toEqual(bytes);
    }
  });

  it.each([
    ['missing padding', 'Zm9vYg'],
    ['non-zero unused bits', 'Zm9vYh=='],
    ['padding in the middle', 'Zm==Zm9v'],
    ['too much padding', 'Zm9v===='],
    ['URL-safe characters', 'ab-_'],
    ['whitespace', 'Zm9v Zm9v'],
    ['a newline', 'Zm9v\n'],
  ])('refuses %s', (_what, text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });
});
