import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * Ids for tracking events that sort in the order they were made (UUIDv7, RFC 9562 §5.7, with the
 * 12-bit rand_a used as a counter within a millisecond, §6.2 method 1). Events in the same
 * injected-clock instant (tests, or bursts) still list in insertion order when sorted by (at, id).
 */
export function eventId(): string {
  let ms = Date.now();
  if (ms <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    counter = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
