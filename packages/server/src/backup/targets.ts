import path from 'node:path';
import type { Config } from '../config.js';
import { LocalTarget, type BackupTarget } from './target.js';
import { SftpTarget, type SftpCredential } from './sftp.js';

/** A configured target and what it counts as in 3-2-1-1-0 (media, off-site, immutable). */
export interface TargetInfo {
  name: string;
  type: 'local' | 'sftp';
  location: string;
  medium: string;
  offsite: boolean;
  immutable: boolean;
  /** SFTP targets: how the writer reaches it. */
  sftp?: SftpCredential;
}

export const PRIMARY_TARGET = 'local';

export function backupDirOf(config: Pick<Config, 'dataDir' | 'backupDir'>): string {
  return config.backupDir ? path.resolve(config.backupDir) : path.join(config.dataDir, 'backups');
}

type TargetConfig = Pick<Config, 'dataDir' | 'backupDir' | 'backupTargets'>;

/** The local directory first (where each backup is written), then the configured copies. */
export function configuredTargets(config: TargetConfig): TargetInfo[] {
  return [
    { name: PRIMARY_TARGET, type: 'local', location: backupDirOf(config), medium: 'disk', offsite: false, immutable: false },
    ...config.backupTargets
      .filter((t) => t.name !== PRIMARY_TARGET)
      .map((t): TargetInfo => {
        if (t.type === 'local') return { ...t };
        const sftp: SftpCredential = { host: t.host, port: t.port, username: t.username, privateKeyFile: t.privateKeyFile, hostKeyFingerprint: t.hostKeyFingerprint, path: t.path };
        return { name: t.name, type: 'sftp', location: `sftp://${t.username}@${t.host}:${t.port}${t.path}`, medium: t.medium, offsite: t.offsite, immutable: t.immutable, sftp };
      }),
  ];
}

/**
 * Opens a target. `as` replaces the SFTP account and key: the pruner's own credential, which the
 * server's configuration never holds (retention.ts).
 */
export function openTarget(info: TargetInfo, as?: { username: string; privateKeyFile: string }): BackupTarget {
  if (info.type === 'sftp' && info.sftp) return new SftpTarget(info.name, { ...info.sftp, ...as });
  return new LocalTarget(info.name, info.location);
}

export function findTarget(config: TargetConfig, name = PRIMARY_TARGET): TargetInfo {
  const info = configuredTargets(config).find((t) => t.name === name);
  if (!info) throw new Error(`no backup target named "${name}"`);
  return info;
}
