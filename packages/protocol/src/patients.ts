import { z } from 'zod';
import { DisplayName, Email, Id, NewPassword, Timestamp } from './common.js';
import { InviteToken } from './org.js';

/**
 * Patient invitations: a clinician opens a dedicated patient conversation and hands the patient a
 * one-time link and, in person, a short code. A patient account sees only the conversations it was
 * invited to: no directory, no cases, nothing of the organisation.
 */
export const PATIENT_INVITE_TTL_HOURS = 72;
export const PATIENT_CODE_ATTEMPTS = 5;

export const CreatePatientInviteBody = z.strictObject({
  /** How the conversation shows the patient until they join (e.g. "Patient, bed 12"); never an identifier. */
  label: z.string().trim().min(1).max(80),
});
export type CreatePatientInviteBody = z.infer<typeof CreatePatientInviteBody>;

export const PatientInvite = z.strictObject({
  id: Id,
  conversationId: Id,
  label: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  acceptedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
export type PatientInvite = z.infer<typeof PatientInvite>;

/** Shown once to the clinician: the link to send the patient, and the code to tell them in person. */
export const CreatedPatientInvite = z.strictObject({ invite: PatientInvite, inviteUrl: z.string(), code: z.string().regex(/^\d{6}$/) });
export type CreatedPatientInvite = z.infer<typeof CreatedPatientInvite>;
export const PatientInviteList = z.strictObject({ invites: z.array(PatientInvite) });
export type PatientInviteList = z.infer<typeof PatientInviteList>;

export const PatientInvitePreview = z.strictObject({ organisationName: z.string(), invitedBy: z.string(), expiresAt: Timestamp });
export type PatientInvitePreview = z.infer<typeof PatientInvitePreview>;

export const AcceptPatientInviteBody = z.strictObject({
  code: z.string().regex(/^\d{6}$/, 'the code has 6 digits'),
  email: Email,
  displayName: DisplayName,
  password: NewPassword,
});
export type AcceptPatientInviteBody = z.infer<typeof AcceptPatientInviteBody>;
export const PatientInviteTokenParams = z.strictObject({ token: InviteToken });
