import { describe, expect, it } from 'vitest';
import { receiptLabel } from './receipts';

const r = (displayName: string, deliveredSeq: number, readSeq: number) => ({ accountId: displayName, displayName, deliveredSeq, readSeq });

describe('receipt line under an own message', () => {
  it('direct: nothing yet, delivered, read', () => {
    expect(receiptLabel(5, [r('Bob', 4, 0)], 'direct')).toBe('');
    expect(receiptLabel(5, [r('Bob', 5, 0)], 'direct')).toBe('Delivered');
    expect(receiptLabel(5, [r('Bob', 9, 5)], 'direct')).toBe('Read');
    // A read marker that overtook the delivery cursor still counts as read.
    expect(receiptLabel(5, [r('Bob', 0, 6)], 'direct')).toBe('Read');
  });

  it('groups say how many have it and who read it', () => {
    expect(receiptLabel(5, [r('Bob', 0, 0), r('Carol', 0, 0)], 'group')).toBe('');
    expect(receiptLabel(5, [r('Bob', 5, 0), r('Carol', 0, 0)], 'group')).toBe('Delivered to 1 of 2');
    expect(receiptLabel(5, [r('Bob', 5, 0), r('Carol', 7, 0)], 'group')).toBe('Delivered to everyone');
    expect(receiptLabel(5, [r('Bob', 5, 5), r('Carol', 0, 0), r('Dan', 0, 0)], 'group')).toBe('Read by Bob · delivered to 1 of 3');
    expect(receiptLabel(5, [r('Bob', 5, 5), r('Carol', 6, 0)], 'group')).toBe('Read by Bob · delivered to everyone');
    expect(receiptLabel(5, [r('Bob', 5, 5), r('Carol', 6, 6)], 'group')).toBe('Read by everyone');
    expect(receiptLabel(5, [], 'group')).toBe('');
  });

  it('a member whose read state the server withholds (read receipts off, theirs or ours) counts as delivered, never as a reader', () => {
    // The server sends such a receipt with readSeq 0 and delivery from the devices' cursors alone.
    expect(receiptLabel(5, [r('Bob', 5, 5), r('Carol', 7, 0)], 'group')).toBe('Read by Bob · delivered to everyone');
    expect(receiptLabel(5, [r('Bob', 5, 0), r('Carol', 7, 0)], 'group')).toBe('Delivered to everyone');
    expect(receiptLabel(5, [r('Bob', 9, 0)], 'direct')).toBe('Delivered');
  });
});
