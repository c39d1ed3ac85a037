import { ImapFlow } from 'imapflow';
import type { Config } from '../config.js';
import { iso, type Deps } from '../deps.js';
import * as store from './store.js';
import { ingestReportedMail } from './reports.js';

type MailboxConfig = NonNullable<Config['phishing']['reportMailbox']>;

/** Largest forwarded mail read from the report mailbox; bigger ones are skipped (and logged). */
const MAX_SOURCE_BYTES = 10 * 1024 * 1024;

export interface PollResult {
  simulated: number;
  triage: number;
  ignored: number;
  skipped: number;
  /** Delivery status notifications recorded as permanent bounces. */
  bounced: number;
}

/**
 * Reads new mail in the report mailbox (IMAP, imapflow) since the last UID processed, which is kept
 * in the database so a restart neither loses nor repeats reports (RFC 3501 §2.3.1.1: UIDs hold
 * while UIDVALIDITY does; a new UIDVALIDITY restarts from the beginning). Messages are not
 * deleted: the mailbox stays the security team's record.
 */
export async function pollReportMailbox(deps: Deps, cfg: MailboxConfig): Promise<PollResult> {
  const result: PollResult = { simulated: 0, triage: 0, ignored: 0, skipped: 0, bounced: 0 };
  const client = new ImapFlow({
    host: cfg.host,
    port: cfg.port,
    secure: cfg.secure,
    tls: { rejectUnauthorized: cfg.rejectUnauthorized },
    auth: { user: cfg.user, pass: cfg.password },
    logger: false,
  });
  client.on('error', () => {});
  await client.connect();
  const key = `${cfg.user}@${cfg.host}:${cfg.port}/${cfg.mailbox}`;
  try {
    const lock = await client.getMailboxLock(cfg.mailbox);
    try {
      const mailbox = client.mailbox;
      const uidValidity = mailbox ? String(mailbox.uidValidity) : '0';
      const state = await store.mailboxState(deps.db, key);
      let last = state && state.uid_validity === uidValidity ? state.last_uid : 0;
      const exists = mailbox ? mailbox.exists : 0;
      if (exists > 0) {
        const messages = await client.fetchAll(`${last + 1}:*`, { uid: true, size: true }, { uid: true });
        for (const m of messages.sort((a, b) => a.uid - b.uid)) {
          if (m.uid <= last) continue; // "n:*" always returns the last message, even if older
          if ((m.size ?? 0) > MAX_SOURCE_BYTES) {
            result.skipped++;
          } else {
            const full = await client.fetchOne(String(m.uid), { source: true }, { uid: true });
            const source = full && full.source ? full.source.toString('utf8') : '';
            const outcome = source ? await ingestReportedMail(deps, source).catch(() => 'ignored' as const) : 'ignored';
            result[outcome]++;
          }
          last = m.uid;
          await store.saveMailboxState(deps.db, key, uidValidity, last, iso(deps.now()));
        }
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return result;
}
