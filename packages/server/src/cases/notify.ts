import type { Deps } from '../deps.js';
import { activeDevicesOf } from '../devices/store.js';

/**
 * Who must hear that a case changed (paged, accepted, escalated). Collected inside the transaction
 * and published after it commits, so a device that refetches at once sees the new state. The
 * notice says only "case X changed"; the device reads the rest through the API.
 */
export class CaseNotices {
  private readonly accounts = new Set<string>();
  constructor(readonly caseId: string) {}

  add(accountIds: readonly string[]): void {
    for (const id of accountIds) this.accounts.add(id);
  }

  async publish(deps: Deps): Promise<void> {
    if (this.accounts.size === 0) return;
    const devices = await activeDevicesOf(deps.db, [...this.accounts]);
    deps.fanOut.publish(
      devices.map((d) => d.id),
      { type: 'case', caseId: this.caseId },
    );
  }
}
