import type { BackupStatus } from '@consilium/protocol';
import { http } from '../../api/client';

/** Admins and security officers: last backup, verify and drill, targets, 3-2-1-1-0, history. */
export const getBackupStatus = () => http.get<BackupStatus>('/backups');
