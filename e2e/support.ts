import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { generate } from 'otplib';
import { createAccount, createOrganisation, loadConfig, startServer, systemActor, type ConfigInput, type RunningServer } from '@consilium/server';
import type { Role } from '@consilium/protocol';

export const PASSWORD = 'e2e password for a fictional doctor';

/** How long a browser test waits for something the other side does (a push, a Welcome, a re-render). */
export const WAIT = { timeout: 20_000 };

/**
 * Types into the composer and sends; waits until the server has given the message its sequence
 * number. `shown` is the text as rendered, when markup changes it.
 */
export async function send(page: Page, text: string, shown = text): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('.message-own', { hasText: shown }).locator('.message-status', { hasText: 'Sent' }).waitFor(WAIT);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface E2eServer extends RunningServer {
  origin: string;
  stop(): Promise<void>;
}

/** The real server with the built web app, on a free port reached as http://localhost:PORT. `extra`: more settings (e.g. an SMTP relay). */
export async function startE2eServer(extra: Partial<ConfigInput> = {}): Promise<E2eServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'consilium-e2e-'));
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const config = loadConfig(
    { host: '127.0.0.1', port, dataDir, publicUrl: origin, logLevel: 'warn', webDir: path.resolve('packages/web/dist'), ...extra },
    {},
  );
  const server = await startServer(config);
  return {
    ...server,
    origin,
    stop: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function seedPerson(server: RunningServer, orgName: string, email: string, role: Role) {
  const org = await createOrganisation(server.deps, orgName, { requireMfa: true, idleTimeoutMinutes: 15 });
  return createAccount(server.deps, systemActor(org.id), { organisationId: org.id, email, displayName: `E2E ${role}`, role, departmentId: null, password: PASSWORD });
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** What a browser test file runs against, set once its beforeAll has run. */
export interface E2e {
  server: E2eServer;
  browser: Browser;
}

/**
 * Registers the file's beforeAll and afterAll: starts the real server (see startE2eServer; `extra`
 * are more settings, or a function that prepares what they name first, e.g. an SMTP sink) and
 * Chromium; afterwards closes the browser, stops the server, then runs `cleanUp`.
 */
export function useE2e(extra: Partial<ConfigInput> | (() => Promise<Partial<ConfigInput>>) = {}, cleanUp?: () => unknown): E2e {
  const e2e = {} as E2e;
  beforeAll(async () => {
    e2e.server = await startE2eServer(typeof extra === 'function' ? await extra() : extra);
    e2e.browser = await launchChromium();
  });
  afterAll(async () => {
    await e2e.browser?.close();
    await e2e.server?.stop();
    await cleanUp?.();
  });
  return e2e;
}

/** Collects console errors and CSP violations; a strict CSP must not be violated by our own app. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return problems;
}

/**
 * First sign-in of a seeded person whose organisation requires MFA: password, then enrolment of an
 * authenticator app with the secret the page shows, then the recovery codes. Ends in the messenger.
 * Returns the TOTP secret for later sign-ins.
 */
export async function signInFirstTime(page: Page, origin: string, email: string): Promise<string> {
  await page.goto(origin);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const secret = (await page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
  await page.getByLabel('Authentication code').fill(await generate({ secret }));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('button', { name: 'I have saved these codes' }).click();
  await page.getByRole('heading', { name: 'Conversations' }).waitFor();
  return secret;
}

/** Several people of one new organisation (which requires MFA), e.g. to message each other. */
export async function seedColleagues(server: RunningServer, orgName: string, people: { email: string; displayName: string; role: Role }[]) {
  const org = await createOrganisation(server.deps, orgName, { requireMfa: true, idleTimeoutMinutes: 15 });
  const accounts = [];
  for (const p of people) {
    accounts.push(
      await createAccount(server.deps, systemActor(org.id), { organisationId: org.id, email: p.email, displayName: p.displayName, role: p.role, departmentId: null, password: PASSWORD }),
    );
  }
  return { org, accounts };
}
