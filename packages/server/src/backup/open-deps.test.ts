import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { openDeps } from '../server.js';
import { openBackupDeps } from './open-deps.js';

const dir = mkdtempSync(path.join(tmpdir(), 'consilium-backup-deps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openBackupDeps', () => {
  it('opens the same Deps as the server’s openDeps (migrated database, same keys)', async () => {
    const config = loadConfig({ dataDir: path.join(dir, 'data'), logLevel: 'silent' }, {});
    // The lean one first, on a fresh directory: it must create and migrate the database itself.
    const lean = await openBackupDeps(config);
    const leanTables = (await lean.deps.db.introspection.getTables()).map((t) => t.name).sort();
    const leanKeys = { audit: lean.deps.auditKey.verifierKey, kind: lean.deps.dbKind, fields: Object.keys(lean.deps).sort() };
    await lean.deps.fanOut.close();
    await lean.database.close();
    const full = await openDeps(config);
    try {
      expect(leanTables).toEqual((await full.deps.db.introspection.getTables()).map((t) => t.name).sort());
      expect(leanTables).toContain('backup_run');
      expect(leanKeys).toEqual({ audit: full.deps.auditKey.verifierKey, kind: full.deps.dbKind, fields: Object.keys(full.deps).sort() });
    } finally {
      await full.deps.fanOut.close();
      await full.database.close();
    }
  });
});
