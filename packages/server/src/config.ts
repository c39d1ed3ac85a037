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
