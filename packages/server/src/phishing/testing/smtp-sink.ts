import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface ReceivedMail {
  envelopeTo: string[];
  /** SMTP MAIL FROM, where the receiving side would send a bounce ('' for the null sender). */
  envelopeFrom: string;
  raw: string;
  parsed: ParsedMail;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package) that keeps what it receives, for
 * tests and benchmarks. `rejectNext(n)` makes it answer the next n DATA commands with a 451
 * temporary failure, as a busy relay would.
 */
export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  private rejects = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(options: { keep?: boolean } = {}): Promise<SmtpSink> {
    let sink: SmtpSink | null = null;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 25 * 1024 * 1024,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const s = sink!;
          if (s.rejects > 0) {
            s.rejects--;
            const err = new Error('4.3.2 try again later') as Error & { responseCode: number };
            err.responseCode = 451;
            return callback(err);
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const to = session.envelope.rcptTo.map((r) => r.address);
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          if (options.keep === false) {
            s.count++;
            s.notify();
            return callback();
          }
          simpleParser(raw)
            .then((parsed) => {
              s.mails.push({ envelopeTo: to, envelopeFrom: from, raw, parsed });
              s.count++;
              s.notify();
              callback();
            })
            .catch((e: Error) => callback(e));
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    sink = new SmtpSink(server, port);
    return sink;
  }

  /** Mails accepted so far (also counts those not kept). */
  count = 0;

  rejectNext(n: number): void {
    this.rejects = n;
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.count >= w.n) w.resolve();
      return this.count < w.n;
    });
  }

  /** Resolves once `n` mails have been accepted in total. */
  waitFor(n: number): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
