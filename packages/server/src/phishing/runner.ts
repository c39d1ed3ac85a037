import type { FastifyBaseLogger } from 'fastify';
import { addSeconds, iso, type Deps } from '../deps.js';
import type { MailSender } from '../mail/transport.js';
import { listOrganisations } from '../orgs/store.js';
import { SEND_BATCH, sendDue } from './sender.js';
import { pollReportMailbox } from './report-mailbox.js';
import { getSettings } from './campaigns.js';
import { deleteEventsBefore } from './store.js';

/** Privacy-mode retention: per-person events older than the organisation's retention period go. */
export async function sweepRetention(deps: Deps): Promise<number> {
  let deleted = 0;
  for (const org of await listOrganisations(deps.db)) {
    const s = await getSettings(deps, org.id);
    if (!s.privacyMode) continue;
    deleted += await deleteEventsBefore(deps.db, org.id, iso(addSeconds(deps.now(), -s.retentionDays * 86_400)));
  }
  return deleted;
}

export interface PhishingRunner {
  stop(): Promise<void>;
}

/**
 * The background work of phishing: sending due mail, polling the report mailbox, retention.
 * All of its state is in the database, so it picks up after a restart where it left off. Runs
 * never overlap; a failed run is logged and the next one tries again.
 */
export function startPhishingRunner(deps: Deps, mailer: MailSender, log: FastifyBaseLogger): PhishingRunner {
  const cfg = deps.config.phishing;
  let running: Promise<void> | null = null;
  let lastPoll = 0;
  let lastSweep = 0;
  let stopping = false;
  const tick = async () => {
    try {
      // A full batch means more may be due: go on at once rather than a whole interval later, so a
      // large campaign's due mail drains at the relay's pace (bench/phishing measures it).
      for (;;) {
        const r = await sendDue(deps, mailer);
        if (stopping || r.sent + r.failed + r.retrying < SEND_BATCH) break;
      }
    } catch (err) {
      log.error({ err }, 'phishing: sending due mail failed');
    }
    const now = Date.now();
    if (cfg.reportMailbox && now - lastPoll >= cfg.reportMailbox.pollSeconds * 1000) {
      lastPoll = now;
      try {
        const r = await pollReportMailbox(deps, cfg.reportMailbox);
        if (r.simulated + r.triage + r.ignored + r.skipped + r.bounced) log.info(r, 'phishing: report mailbox read');
      } catch (err) {
        log.warn({ err }, 'phishing: polling the report mailbox failed');
      }
    }
    if (now - lastSweep >= 3600_000) {
      lastSweep = now;
      try {
        await sweepRetention(deps);
      } catch (err) {
        log.warn({ err }, 'phishing: retention sweep failed');
      }
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = tick().finally(() => {
      running = null;
    });
  }, cfg.schedulerIntervalSeconds * 1000);
  timer.unref();
  return {
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}
