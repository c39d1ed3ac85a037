import type { Me, Member } from '@consilium/protocol';

/** Who an account id is, as far as this browser can tell; the log itself stores ids only. */
export interface Person {
  name: string;
  email: string;
}

export type People = ReadonlyMap<string, Person>;

/**
 * Names come from the member list, which only administrators may read; security officers see
 * ids, and themselves by name.
 */
export function peopleFrom(me: Me, members: readonly Member[] | null): People {
  const people = new Map<string, Person>();
  for (const member of members ?? []) people.set(member.id, { name: member.displayName, email: member.email });
  people.set(me.account.id, { name: me.account.displayName, email: me.account.email });
  return people;
}

/** The first block of a UUID: enough to tell rows apart at a glance; the full id is in the entry. */
export const shortId = (id: string) => `${id.slice(0, 8)}…`;
