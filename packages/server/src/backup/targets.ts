import path from 'node:path';
import type { Config } from '../config.js';
import { LocalTarget, type BackupTarget } from './target.js';

/** A configured target and what it counts as in 3-2-1-1-0 (media, off-site, immutable). */
export interface TargetInfo {
  name: string;
  type: 'local';
  location: string;
  medium: string;
  offsite: boolean;
  immutable: boolean;
}

export const PRIMARY_TARGET = 'local';

export function backupDirOf(config: Pick<Config, 'dataDir' | 'backupDir'>): string {
  return config.backupDir ? path.resolve(config.backupDir) : path.join(config.dataDir, 'backups');
}

/** The local directory first (where each backup is written), then the configured copies. */
export function configuredTargets(config: Pick<Config, 'dataDir' | 'backupDir' | 'backupTargets'>): TargetInfo[] {
  return [
    { name: PRIMARY_TARGET, type: 'local', location: backupDirOf(config), medium: 'disk', offsite: false, immutable: false },
    ...config.backupTargets.filter((t) => t.name !== PRIMARY_TARGET).map((t) => ({ ...t })),
  ];
}

export function openTarget(info: TargetInfo): BackupTarget {
  return new LocalTarget(info.name, info.location);
}

export function findTarget(config: Pick<Config, 'dataDir' | 'backupDir' | 'backupTargets'>, name = PRIMARY_TARGET): TargetInfo {
  const info = configuredTargets(config).find((t) => t.name === name);
  if (!info) throw new Error(`no backup target named "${name}"`);
  return info;
}
