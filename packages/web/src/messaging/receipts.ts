import type { MemberReceiptView } from './types';

/**
 * The receipt after "Sent" under an own message at `seq`, from the other members' receipts: empty
 * until a device of theirs acknowledged it, "Delivered" once every other member has it, "Read"
 * once every other member read it. In groups, partial states say how many, and who read it.
 */
export function receiptLabel(seq: number, others: readonly MemberReceiptView[], kind: 'direct' | 'group' | 'case' | 'patient'): string {
  if (others.length === 0) return '';
  const readers = others.filter((r) => r.readSeq >= seq);
  const delivered = others.filter((r) => r.deliveredSeq >= seq || r.readSeq >= seq);
  if (kind === 'direct' || others.length === 1) return readers.length ? 'Read' : delivered.length ? 'Delivered' : '';
  if (readers.length === others.length) return 'Read by everyone';
  const parts: string[] = [];
  if (readers.length) parts.push(`Read by ${readers.map((r) => r.displayName).join(', ')}`);
  if (delivered.length === others.length) parts.push('delivered to everyone');
  else if (delivered.length) parts.push(`delivered to ${delivered.length} of ${others.length}`);
  return parts.length ? capitalise(parts.join(' · ')) : '';
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
