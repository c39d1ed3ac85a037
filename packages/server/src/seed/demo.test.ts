import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import { getOrganisationBySlug, getDepartmentByName } from '../orgs/store.js';
import { currentChain } from '../cases/oncall.js';
import { seedDemo } from './demo.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('the demo organisation', () => {
  it('is seeded once, with random passwords kept in a private file', async () => {
    const first = await seedDemo(server.deps);
    expect(first.created).toBe(true);
    expect(new Set(first.credentials.map((c) => c.password)).size).toBe(first.credentials.length);
    const file = path.join(server.dataDir, 'demo-credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await seedDemo(server.deps);
    expect(again).toEqual({ created: false, credentials: first.credentials });
  });

  it('has verified cardiologists on call, so a consult can be paged at once', async () => {
    const org = (await getOrganisationBySlug(server.deps.db, 'demo-hospital'))!;
    const cardiology = (await getDepartmentByName(server.deps.db, org.id, 'Cardiology'))!;
    const chain = await currentChain(server.deps.db, cardiology.id, server.clock.now());
    expect(chain.map((s) => s.people.map((p) => p.displayName))).toEqual([['Dr Casey Cardio'], ['Dr Robin Rhythm']]);
  });
});
