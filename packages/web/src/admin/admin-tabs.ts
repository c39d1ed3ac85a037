import type { Role } from '@consilium/protocol';
import type { AdminTab } from '../app/route';

export const tabLabels: Record<AdminTab, string> = {
  members: 'Members',
  invitations: 'Invitations',
  departments: 'Departments',
  settings: 'Settings',
  audit: 'Audit log',
};

const tabsByRole: Record<Role, readonly AdminTab[]> = {
  admin: ['members', 'invitations', 'departments', 'settings', 'audit'],
  // Security officers review the audit log and nothing else of the console.
  security_officer: ['audit'],
  clinician: [],
  nurse: [],
};

/** The admin console sections a role may open, in the order they are shown. The server enforces the same. */
export const adminTabsFor = (role: Role): readonly AdminTab[] => tabsByRole[role];
