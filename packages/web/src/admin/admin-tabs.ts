import type { Role } from '@consilium/protocol';
import type { AdminTab } from '../app/route';

export const tabLabels: Record<AdminTab, string> = {
  members: 'Members',
  invitations: 'Invitations',
  departments: 'Departments',
  oncall: 'On call',
  connections: 'Connections',
  settings: 'Settings',
  audit: 'Audit log',
  backups: 'Backups',
};

const tabsByRole: Record<Role, readonly AdminTab[]> = {
  admin: ['members', 'invitations', 'departments', 'oncall', 'connections', 'settings', 'audit', 'backups'],
  // Security officers review the audit log and the state of backups, nothing else of the console.
  security_officer: ['audit', 'backups'],
  patient: [],
  clinician: [],
  nurse: [],
};

/** The admin console sections a role may open, in the order they are shown. The server enforces the same. */
export const adminTabsFor = (role: Role): readonly AdminTab[] => tabsByRole[role];
