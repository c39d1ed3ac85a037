import { API_PREFIX, BackupStatus } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import { backupStatus } from './status.js';

export function backupRoutes(app: ZodApp, deps: Deps): void {
  // Admins and security officers: the state of the deployment's backups (no data, no keys).
  app.get(`${API_PREFIX}/backups`, { config: { access: 'auditor' }, schema: { tags: ['backups'], response: { 200: BackupStatus, ...errorResponses } } }, async () => backupStatus(deps));
}
