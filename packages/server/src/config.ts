import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every setting, its default and its bounds. Documented in README "Configuration". */
export const ConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: int(0, 65535).default(8080),
  /** The origin browsers use; WebAuthn binds passkeys to its host name (an IP address cannot be an RP ID). */
  publicUrl: z.url().default('http://localhost:8080'),
  dataDir: z.string().default('./data'),
  /** postgres://... selects PostgreSQL; unset uses the embedded SQLite file in dataDir. */
  databaseUrl: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Secure cookies. Browsers accept them on http://localhost; turn off only for plain-HTTP hosts in a lab. */
  cookieSecure: bool.default(true),
  trustProxy: bool.default(false),
  /** Largest HTTP body accepted, in bytes. */
  bodyLimitBytes: int(1024, 64 * 1024 * 1024).default(256 * 1024),
  /** Built web app to serve; empty to serve the API only. */
  webDir: z.string().default(''),
  /** 32 bytes, base64: seals TOTP secrets and keys recovery-code hashes. Default: dataDir/secret.key. */
  secretKey: z.string().optional(),
  /** C2SP signed-note signer key for audit checkpoints. Default: created in dataDir/audit-signing.key. */
  auditSigningKey: z.string().optional(),
  signIn: z
    .strictObject({
      windowMinutes: int(1, 1440).default(15),
      maxFailuresPerAccount: int(1, 1000).default(5),
      maxFailuresPerIp: int(1, 100000).default(30),
    })
    .default({ windowMinutes: 15, maxFailuresPerAccount: 5, maxFailuresPerIp: 30 }),
  /** Absolute session lifetime, whatever the activity. */
  sessionMaxHours: int(1, 24 * 30).default(12),
  /** nats://host:port (comma-separated for a cluster): fan-out between server nodes sharing one PostgreSQL. Unset: in-process. */
  natsUrl: z.string().optional(),
  /** Where encrypted attachments are stored, content-addressed. Default: dataDir/blobs. */
  blobDir: z.string().default(''),
  /** Largest attachment accepted, in plaintext bytes (the ciphertext may be this plus its format overhead). */
  attachmentMaxBytes: int(1024, 1024 * 1024 * 1024).default(50 * 1024 * 1024),
  /** How long an upload may stay pending (uploaded with confirm=on-send, named by no sent message) before the sweep deletes it. */
  attachmentPendingHours: int(1, 24 * 30).default(24),
  /** Backups (docs/operations/backups.md). Public age recipients only: the server never holds an identity. */
  backupRecipients: z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(/[\s,]+/)).map((r) => r.trim()).filter(Boolean))
    .default([]),
  /** Ed25519 backup signing key (C2SP signer key). Default: created in dataDir/backup-signing.key. */
  backupSigningKey: z.string().optional(),
  /** The local target directory. Default: dataDir/backups (mount it from another machine or disk). */
  backupDir: z.string().default(''),
  /** Cron expression (croner) for scheduled backups; empty: off. */
  backupSchedule: z.string().default(''),
  /** Further targets, and what each is, for the 3-2-1-1-0 view. */
  backupTargets: z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({
          name: z.string().regex(/^[a-z0-9-]{1,40}$/),
          type: z.literal('local'),
          /** A directory (a mount of another disk, NAS or machine). */
          location: z.string().min(1),
          medium: z.string().default('disk'),
          offsite: bool.default(false),
          immutable: bool.default(false),
        }),
        z.strictObject({
          name: z.string().regex(/^[a-z0-9-]{1,40}$/),
          /** An OpenSSH SFTP server; the writer's account may create files but not delete, rename or change them. */
          type: z.literal('sftp'),
          host: z.string().min(1),
          port: int(1, 65535).default(22),
          username: z.string().min(1),
          /** The writer's private key file (never the pruner's). */
          privateKeyFile: z.string().min(1),
          /** The pinned host key: `SHA256:…` as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it. */
          hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/),
          path: z.string().regex(/^\//, 'an absolute path on the SFTP host'),
          medium: z.string().default('sftp'),
          offsite: bool.default(true),
          immutable: bool.default(false),
        }),
      ]),
    )
    .default([]),
  /** Cron expression for the server's own restore drill (needs backupDrillIdentityFile); empty: off. Monthly by default. */
  backupDrillSchedule: z.string().default('0 3 1 * *'),
  /**
   * An age identity file the scheduled drill restores with. Whoever holds it can read backups:
   * set it only where that is acceptable (the demo, or a server that runs on the restore host).
   */
  backupDrillIdentityFile: z.string().default(''),
  /** Outgoing mail relay (phishing simulations). Unset: nothing is sent. See docs/operations/phishing.md. */
  smtp: z
    .strictObject({
      host: z.string().min(1),
      port: int(1, 65535).default(587),
      /** Implicit TLS (port 465); otherwise STARTTLS is used when the relay offers it. */
      secure: bool.default(false),
      /** Refuse to send in clear when the relay does not offer STARTTLS. */
      requireTls: bool.default(false),
      rejectUnauthorized: bool.default(true),
      user: z.string().optional(),
      password: z.string().optional(),
    })
    .optional(),
  phishing: z
    .strictObject({
      schedulerIntervalSeconds: int(1, 3600).default(15),
      /** Send attempts per recipient before it is marked failed (backoff doubles from 1 minute). */
      maxSendAttempts: int(1, 20).default(5),
      /** A link fetched this soon after delivery is presumed a mail scanner unless the landing script confirms a person. */
      botWindowSeconds: int(0, 3600).default(60),
      /** Requests per minute per address on the public tracking and landing routes. */
      publicRateLimitPerMinute: int(1, 100000).default(120),
      /**
       * Envelope sender (SMTP MAIL FROM) of campaign mail, VERP style: "bounces@report.example.org"
       * makes each mail's Return-Path "bounces+<trackingId>@report.example.org", so delivery status
       * notifications name the recipient. Route it (e.g. a "+" subaddress catch-all) to the report
       * mailbox. Unset: the envelope sender is the visible From and bounces never come back, so
       * "delivered" is not reported.
       */
      bounceAddress: z.string().regex(/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+$/, 'an address like bounces@report.example.org').optional(),
      /** A sent mail with no permanent bounce this long after sending counts as delivered. */
      deliveredAfterMinutes: int(1, 10080).default(30),
      /** The report address's IMAP mailbox, polled for forwarded mail. */
      reportMailbox: z
        .strictObject({
          host: z.string().min(1),
          port: int(1, 65535).default(993),
          secure: bool.default(true),
          rejectUnauthorized: bool.default(true),
          user: z.string().min(1),
          password: z.string().min(1),
          mailbox: z.string().default('INBOX'),
          pollSeconds: int(5, 3600).default(30),
        })
        .optional(),
    })
    .default({ schedulerIntervalSeconds: 15, maxSendAttempts: 5, botWindowSeconds: 60, publicRateLimitPerMinute: 120, deliveredAfterMinutes: 30 }),
});
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

const envNames: Record<string, keyof ConfigInput> = {
  CONSILIUM_HOST: 'host',
  CONSILIUM_PORT: 'port',
  CONSILIUM_PUBLIC_URL: 'publicUrl',
  CONSILIUM_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  CONSILIUM_LOG_LEVEL: 'logLevel',
  CONSILIUM_COOKIE_SECURE: 'cookieSecure',
  CONSILIUM_TRUST_PROXY: 'trustProxy',
  CONSILIUM_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  CONSILIUM_WEB_DIR: 'webDir',
  CONSILIUM_SECRET_KEY: 'secretKey',
  CONSILIUM_AUDIT_SIGNING_KEY: 'auditSigningKey',
  CONSILIUM_SESSION_MAX_HOURS: 'sessionMaxHours',
  CONSILIUM_NATS_URL: 'natsUrl',
  CONSILIUM_BLOB_DIR: 'blobDir',
  CONSILIUM_ATTACHMENT_MAX_BYTES: 'attachmentMaxBytes',
  CONSILIUM_ATTACHMENT_PENDING_HOURS: 'attachmentPendingHours',
  CONSILIUM_BACKUP_RECIPIENTS: 'backupRecipients',
  CONSILIUM_BACKUP_SIGNING_KEY: 'backupSigningKey',
  CONSILIUM_BACKUP_DIR: 'backupDir',
  CONSILIUM_BACKUP_SCHEDULE: 'backupSchedule',
  CONSILIUM_BACKUP_DRILL_SCHEDULE: 'backupDrillSchedule',
  CONSILIUM_BACKUP_DRILL_IDENTITY_FILE: 'backupDrillIdentityFile',
};

export class ConfigError extends Error {}

/**
 * Reads the configuration once: the JSON file named by CONSILIUM_CONFIG (if any), then
 * environment variables, then explicit overrides (CLI flags, tests), later ones winning.
 */
export function loadConfig(overrides: Partial<ConfigInput> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  let fromFile: Record<string, unknown> = {};
  if (env.CONSILIUM_CONFIG) {
    try {
      fromFile = JSON.parse(readFileSync(env.CONSILIUM_CONFIG, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`cannot read CONSILIUM_CONFIG ${env.CONSILIUM_CONFIG}: ${(err as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(envNames)) {
    const value = env[name];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const parsed = ConfigSchema.safeParse({ ...fromFile, ...fromEnv, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  return { ...config, dataDir: path.resolve(config.dataDir), webDir: config.webDir ? path.resolve(config.webDir) : '' };
}

export function databaseKind(config: Pick<Config, 'databaseUrl'>): 'sqlite' | 'postgres' {
  return config.databaseUrl && /^postgres(ql)?:\/\//.test(config.databaseUrl) ? 'postgres' : 'sqlite';
}
