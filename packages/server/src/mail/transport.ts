import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config.js';

/** One outgoing message. Headers are added verbatim (tracking ids, List-Unsubscribe, ...). */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers?: Record<string, string>;
  /** SMTP MAIL FROM (where bounces go) when it differs from the visible From. */
  envelopeFrom?: string;
}

/** The one way the server sends mail: SMTP through the relay in config (nodemailer). */
export interface MailSender {
  send(mail: OutgoingMail): Promise<{ messageId: string; response: string }>;
  close(): void;
}

export class MailNotConfigured extends Error {
  constructor() {
    super('no SMTP relay is configured (config "smtp")');
  }
}

export function createMailSender(config: Pick<Config, 'smtp'>): MailSender {
  const smtp = config.smtp;
  if (!smtp) {
    return {
      send: async () => {
        throw new MailNotConfigured();
      },
      close: () => {},
    };
  }
  const transport: Transporter = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.requireTls,
    tls: { rejectUnauthorized: smtp.rejectUnauthorized },
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    pool: true,
    maxConnections: 2,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        headers: mail.headers,
        ...(mail.envelopeFrom ? { envelope: { from: mail.envelopeFrom, to: mail.to } } : {}),
      });
      return { messageId: String(info.messageId), response: String(info.response) };
    },
    close: () => transport.close(),
  };
}
