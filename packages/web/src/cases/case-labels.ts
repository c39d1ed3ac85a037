import type { CaseStatus, CaseSummary, Urgency } from '@consilium/protocol';
import type { BadgeTone } from '../ui/Badge';

export const urgencyLabels: Record<Urgency, string> = { routine: 'Routine', urgent: 'Urgent', emergency: 'Emergency' };
export const urgencyTones: Record<Urgency, BadgeTone> = { routine: 'neutral', urgent: 'warning', emergency: 'danger' };

export const statusLabels: Record<CaseStatus, string> = { open: 'Open', answered: 'Answered', closed: 'Closed' };
export const statusTones: Record<CaseStatus, BadgeTone> = { open: 'accent', answered: 'success', closed: 'neutral' };

/** The paging state in a few words: "Paging step 2 of 3", "Accepted by Dr Lane", "Unanswered"; null when not paged. */
export function describePaging(c: CaseSummary): string | null {
  const page = c.page;
  if (!page) return null;
  switch (page.state) {
    case 'paging':
      return `Paging step ${page.step} of ${page.stepCount}`;
    case 'accepted': {
      const who = page.targets.find((t) => t.accountId === page.acceptedBy)?.displayName;
      return who ? `Accepted by ${who}` : 'Accepted';
    }
    case 'unanswered':
      return 'Unanswered';
    case 'cancelled':
      return 'Paging stopped';
  }
}
