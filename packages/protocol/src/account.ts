import { z } from 'zod';
import { DisplayName, Email, Id, Timestamp } from './common.js';

export const roles = ['clinician', 'nurse', 'admin', 'security_officer', 'patient'] as const;
export const Role = z.enum(roles);
export type Role = z.infer<typeof Role>;
/** Roles of the organisation's staff. A patient joins only through a clinician's patient invitation. */
export const staffRoles = ['clinician', 'nurse', 'admin', 'security_officer'] as const;
export const StaffRole = z.enum(staffRoles);
export type StaffRole = z.infer<typeof StaffRole>;

export const verificationLevels = ['unverified', 'identity_verified', 'licence_verified'] as const;
export const VerificationLevel = z.enum(verificationLevels);
export type VerificationLevel = z.infer<typeof VerificationLevel>;

/** National registers of health professionals (BIG: NL, GMC: UK, NPI: US, RIZIV: BE). */
export const licenceRegisters = ['BIG', 'GMC', 'NMC', 'NPI', 'RIZIV', 'AHPRA', 'OTHER'] as const;
export const LicenceRegister = z.enum(licenceRegisters);
export type LicenceRegister = z.infer<typeof LicenceRegister>;

export const AccountStatus = z.enum(['active', 'disabled']);
export type AccountStatus = z.infer<typeof AccountStatus>;

export const Verification = z.strictObject({
  level: VerificationLevel,
  register: LicenceRegister.nullable(),
  licenceNumber: z.string().nullable(),
  evidence: z.string().nullable(),
  verifiedBy: Id.nullable(),
  verifiedAt: Timestamp.nullable(),
});
export type Verification = z.infer<typeof Verification>;

export const Member = z.strictObject({
  id: Id,
  email: z.string(),
  displayName: z.string(),
  role: Role,
  departmentId: Id.nullable(),
  status: AccountStatus,
  verification: Verification,
  mfaEnrolled: z.boolean(),
  createdAt: Timestamp,
});
export type Member = z.infer<typeof Member>;

export const MemberList = z.strictObject({ members: z.array(Member) });
export type MemberList = z.infer<typeof MemberList>;

export const UpdateMemberBody = z
  .strictObject({
    role: StaffRole.optional(),
    departmentId: Id.nullable().optional(),
    status: AccountStatus.optional(),
    displayName: DisplayName.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type UpdateMemberBody = z.infer<typeof UpdateMemberBody>;

export const SetVerificationBody = z
  .strictObject({
    level: VerificationLevel,
    register: LicenceRegister.optional(),
    licenceNumber: z.string().trim().min(1).max(64).optional(),
    /** How the admin checked: "passport seen in person", "BIG register lookup 2026-11-23". */
    evidence: z.string().trim().min(1).max(500).optional(),
  })
  .refine((b) => b.level !== 'licence_verified' || (b.register && b.licenceNumber), {
    message: 'licence_verified needs register and licenceNumber',
    path: ['licenceNumber'],
  })
  .refine((b) => b.level === 'unverified' || b.evidence, {
    message: 'verification needs evidence',
    path: ['evidence'],
  });
export type SetVerificationBody = z.infer<typeof SetVerificationBody>;

export const Department = z.strictObject({ id: Id, name: z.string(), createdAt: Timestamp });
export type Department = z.infer<typeof Department>;
export const DepartmentList = z.strictObject({ departments: z.array(Department) });
export type DepartmentList = z.infer<typeof DepartmentList>;
export const CreateDepartmentBody = z.strictObject({ name: z.string().trim().min(1).max(120) });
export type CreateDepartmentBody = z.infer<typeof CreateDepartmentBody>;


/**
 * What an account chooses for itself. `readReceipts` is "Send read receipts" (default on), and
 * reciprocal as in Signal and WhatsApp: off, the server keeps no read marker for the account and
 * shows others none it has, and serves the account no one's read state, only delivery.
 */
export const Preferences = z.strictObject({ readReceipts: z.boolean() });
export type Preferences = z.infer<typeof Preferences>;
export const UpdatePreferencesBody = z
  .strictObject({ readReceipts: z.boolean().optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type UpdatePreferencesBody = z.infer<typeof UpdatePreferencesBody>;
