import type {
  CreateDepartmentBody,
  CreateInviteBody,
  CreatedInvite,
  Department,
  DepartmentList,
  InviteList,
  Member,
  MemberList,
  Ok,
  Organisation,
  OrgConnection,
  OrgConnectionList,
  ProposeConnectionBody,
  SetVerificationBody,
  UpdateMemberBody,
  UpdateOrgSettingsBody,
} from '@consilium/protocol';
import { http, segment } from './client';

export const updateOrgSettings = (body: UpdateOrgSettingsBody) => http.patch<Organisation>('/org/settings', body);

export const listDepartments = () => http.get<DepartmentList>('/org/departments');

export const createDepartment = (body: CreateDepartmentBody) => http.post<Department>('/org/departments', body);

export const listMembers = () => http.get<MemberList>('/org/members');

export const updateMember = (id: string, body: UpdateMemberBody) => http.patch<Member>(`/org/members/${segment(id)}`, body);

export const setMemberVerification = (id: string, body: SetVerificationBody) =>
  http.put<Member>(`/org/members/${segment(id)}/verification`, body);

/** Removes every second factor of the member and ends all their sessions. */
export const resetMemberMfa = (id: string) => http.post<Ok>(`/org/members/${segment(id)}/reset-mfa`);

export const createInvite = (body: CreateInviteBody) => http.post<CreatedInvite>('/org/invites', body);

export const listInvites = () => http.get<InviteList>('/org/invites');

export const revokeInvite = (id: string) => http.delete<Ok>(`/org/invites/${segment(id)}`);

// Connections with other organisations (messaging across them; nothing else crosses).
export const listConnections = () => http.get<OrgConnectionList>('/org/connections');
export const proposeConnection = (body: ProposeConnectionBody) => http.post<OrgConnection>('/org/connections', body);
export const acceptConnection = (id: string) => http.post<OrgConnection>(`/org/connections/${segment(id)}/accept`, {});
export const endConnection = (id: string) => http.delete<OrgConnection>(`/org/connections/${segment(id)}`);
