/** Backups: what the CLI and the server use (docs/operations/backups.md). */
export { createBackup, BackupChainError, type BackupResult, type BackupOptions } from './create.js';
export { runVerify, runDrill, recordedFor, type DrillResult, type DrillOptions, type VerifyRunOptions } from './service.js';
export { verifyTarget, parseSubset, type BackupVerifyReport, type BackupProblem } from './verify.js';
export { restoreSnapshot, RestoreError, type RestoreResult } from './restore.js';
export { checkRestored, type RestoreCheck } from './checks.js';
export { generateIdentity as generateAgeIdentity, parseIdentityFile, checkRecipients, AgeError, type RecipientKind } from './age.js';
export { loadBackupSigningKey, backupRecipients } from './keys.js';
export { generateBackupSigningKey, backupVerifier, openManifest } from './manifest.js';
export { configuredTargets, findTarget, openTarget, backupDirOf, type TargetInfo } from './targets.js';
export { readChain } from './chain.js';
export { backupStatus } from './status.js';
export { BackupBusyError } from './lock.js';
export { drillMarkdown } from './report.js';
export { parseSchedule, runOnSchedule } from './schedule.js';
export { planRetention, pruneTarget, RetentionError, type RetentionPolicy, type PruneResult } from './retention.js';
export { SftpTarget, SftpTargetError, type SftpCredential } from './sftp.js';
