import type { Department, DepartmentList, MemberList } from '@consilium/protocol';
import { staffRoles } from '@consilium/protocol';
import { listDepartments, listMembers } from '../api/org';
import { roleLabels } from '../ui/labels';
import type { SelectOption } from '../ui/fields';

/** Staff roles only: a patient joins through a clinician's patient invitation, never by role. */
export const roleOptions: SelectOption[] = staffRoles.map((role) => ({ value: role, label: roleLabels[role] }));

export const NO_DEPARTMENT = '';

export const departmentOptions = (departments: Department[]): SelectOption[] => [
  { value: NO_DEPARTMENT, label: 'No department' },
  ...departments.map((d) => ({ value: d.id, label: d.name })),
];

export const departmentName = (departments: Department[], id: string | null) =>
  id === null ? '—' : (departments.find((d) => d.id === id)?.name ?? 'Unknown');

export interface Directory {
  members: MemberList['members'];
  departments: DepartmentList['departments'];
}

export async function loadDirectory(): Promise<Directory> {
  const [members, departments] = await Promise.all([listMembers(), listDepartments()]);
  return { members: members.members, departments: departments.departments };
}
