import { describe, expect, it } from 'vitest';
import type { CaseSummary } from '@consilium/protocol';
import { describePaging } from './case-labels';

const base: CaseSummary = {
  id: '33333333-3333-4333-8333-333333333333',
  departmentId: '44444444-4444-4444-8444-444444444444',
  departmentName: 'Cardiology',
  urgency: 'urgent',
  status: 'open',
  openedBy: '11111111-1111-4111-8111-111111111111',
  openedByName: 'Dr Alice Ward',
  openedAt: '2026-11-23T08:00:00.000Z',
  answeredAt: null,
  closedAt: null,
  updatedAt: '2026-11-23T08:00:00.000Z',
  page: null,
  awaitingMyResponse: false,
};
const page = (patch: Partial<NonNullable<CaseSummary['page']>>): CaseSummary => ({
  ...base,
  page: {
    state: 'paging',
    step: 2,
    stepCount: 3,
    stepStartedAt: '2026-11-23T08:15:00.000Z',
    nextActionAt: '2026-11-23T08:17:00.000Z',
    notifications: 1,
    acceptedBy: null,
    acceptedAt: null,
    targets: [{ accountId: '22222222-2222-4222-8222-222222222222', displayName: 'Dr Bob Lane', step: 1, notifiedAt: '2026-11-23T08:00:00.000Z', declinedAt: null }],
    ...patch,
  },
});

describe('describePaging', () => {
  it('says where paging stands in a few words', () => {
    expect(describePaging(base)).toBeNull();
    expect(describePaging(page({}))).toBe('Paging step 2 of 3');
    expect(describePaging(page({ state: 'accepted', acceptedBy: '22222222-2222-4222-8222-222222222222' }))).toBe('Accepted by Dr Bob Lane');
    expect(describePaging(page({ state: 'accepted', acceptedBy: '55555555-5555-4555-8555-555555555555' }))).toBe('Accepted');
    expect(describePaging(page({ state: 'unanswered' }))).toBe('Unanswered');
    expect(describePaging(page({ state: 'cancelled' }))).toBe('Paging stopped');
  });
});
