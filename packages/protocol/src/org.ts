import { z } from 'zod';
import { Id, Timestamp, Email, DisplayName, NewPassword } from './common.js';
import { Role, StaffRole } from './account.js';

export const IDLE_TIMEOUT_MIN_MINUTES = 1;
export const IDLE_TIMEOUT_MAX_MINUTES = 480;

export const OrgSettings = z.strictObject({
  requireMfa: z.boolean(),
  /** HIPAA 164.312(a)(2)(iii) automatic logoff after this many idle minutes. */
  idleTimeoutMinutes: z.number().int().min(IDLE_TIMEOUT_MIN_MINUTES).max(IDLE_TIMEOUT_MAX_MINUTES),
});
export type OrgSettings = z.infer<typeof OrgSettings>;

export const Organisation = z.strictObject({
  id: Id,
  name: z.string(),
  slug: z.string(),
  settings: OrgSettings,
  createdAt: Timestamp,
});
export type Organisation = z.infer<typeof Organisation>;

export const UpdateOrgSettingsBody = OrgSettings.partial().refine((b) => Object.keys(b).length > 0, {
  message: 'nothing to change',
});
export type UpdateOrgSettingsBody = z.infer<typeof UpdateOrgSettingsBody>;

export const INVITE_TTL_HOURS = 72;

export const CreateInviteBody = z.strictObject({
  email: Email,
  role: StaffRole,
  departmentId: Id.nullable().optional(),
});
export type CreateInviteBody = z.infer<typeof CreateInviteBody>;

export const Invite = z.strictObject({
  id: Id,
  email: z.string(),
  role: Role,
  departmentId: Id.nullable(),
  invitedBy: Id,
  expiresAt: Timestamp,
  acceptedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  createdAt: Timestamp,
});
export type Invite = z.infer<typeof Invite>;
export const InviteList = z.strictObject({ invites: z.array(Invite) });
export type InviteList = z.infer<typeof InviteList>;

/** The link is shown once, to the admin who created the invite; the server keeps only its hash. */
export const CreatedInvite = z.strictObject({ invite: Invite, inviteUrl: z.string(), token: z.string() });
export type CreatedInvite = z.infer<typeof CreatedInvite>;

export const InviteToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'malformed invite token');
export const InviteTokenParams = z.strictObject({ token: InviteToken });

export const InvitePreview = z.strictObject({
  organisationName: z.string(),
  email: z.string(),
  role: Role,
  expiresAt: Timestamp,
});
export type InvitePreview = z.infer<typeof InvitePreview>;

export const AcceptInviteBody = z.strictObject({ displayName: DisplayName, password: NewPassword });
export type AcceptInviteBody = z.infer<typeof AcceptInviteBody>;
