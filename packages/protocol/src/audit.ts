import { z } from 'zod';
import { Id, Timestamp } from './common.js';
import { Role } from './account.js';

/**
 * What the audit log records. Names are `<area>.<what happened>`; they are only ever added.
 * NEN 7513 asks for: event, date-time, user and role, on whose behalf, which patient (here a
 * pseudonymous case id), which data, purpose, outcome, source address, and whether an emergency
 * (break-glass) procedure was used. FHIR R4 AuditEvent carries the same.
 */
export const auditEventTypes = [
  'auth.sign_in',
  'auth.second_factor',
  'auth.sign_out',
  'auth.session_revoked',
  'auth.session_expired',
  'mfa.totp_enrolled',
  'mfa.totp_removed',
  'mfa.passkey_added',
  'mfa.passkey_removed',
  'mfa.recovery_codes_generated',
  'mfa.reset',
  'org.created',
  'org.settings_changed',
  'org.department_created',
  'member.created',
  'member.updated',
  'member.role_changed',
  'member.status_changed',
  'member.verification_changed',
  'member.sessions_revoked',
  'invite.created',
  'invite.revoked',
  'invite.accepted',
  'audit.read',
  'audit.exported',
  'device.added',
  'device.attached',
  'device.revoked',
  'conversation.created',
  'conversation.member_added',
  'conversation.member_removed',
  'backup.created',
  'backup.failed',
  'backup.verified',
  'backup.drill',
  'attachment.uploaded',
  'attachment.downloaded',
  'attachment.exported',
  'attachment.discarded',
  'phishing.campaign_created',
  'phishing.campaign_launched',
  'phishing.campaign_cancelled',
  'phishing.report_received',
  'phishing.triage_decided',
  'phishing.settings_changed',
  'phishing.results_exported',
  'phishing.campaign_shared',
  'phishing.campaign_unshared',
  'phishing.template_created',
  'phishing.template_updated',
  'phishing.template_deleted',
  'conversation.expiry_changed',
  'message.recalled',
  'message.expired',
  'patient.invited',
  'patient.joined',
  'patient.invite_failed',
  'case.opened',
  'case.paged',
  'case.renotified',
  'case.escalated',
  'case.accepted',
  'case.declined',
  'case.unanswered',
  'case.answered',
  'case.closed',
  'case.exported',
  'case.purged',
  'case.policy_changed',
  'oncall.changed',
  'org.connection_proposed',
  'org.connection_accepted',
  'org.connection_ended',
  'account.read_receipts_changed',
] as const;
export const AuditEventType = z.enum(auditEventTypes);
export type AuditEventType = z.infer<typeof AuditEventType>;

/** FHIR R4 AuditEvent.action: Create, Read, Update, Delete, Execute. */
export const AuditAction = z.enum(['C', 'R', 'U', 'D', 'E']);
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditOutcome = z.enum(['success', 'failure']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/** HL7 v3 PurposeOfUse codes in use here (ETREAT = emergency treatment, i.e. break-glass). */
export const PurposeOfUse = z.enum(['TREAT', 'ETREAT', 'HOPERAT', 'HSYSADMIN', 'PATRQT']);
export type PurposeOfUse = z.infer<typeof PurposeOfUse>;

export const AuditEntry = z.strictObject({
  index: z.number().int().nonnegative(),
  type: AuditEventType,
  action: AuditAction,
  outcome: AuditOutcome,
  at: Timestamp,
  organisationId: Id.nullable(),
  actor: z.strictObject({
    accountId: Id.nullable(),
    role: Role.nullable(),
    /** For failed sign-ins: the e-mail as typed (an account may not exist). */
    email: z.string().nullable(),
  }),
  onBehalfOf: Id.nullable(),
  /** Pseudonymous case id, never a patient identifier. */
  caseId: Id.nullable(),
  entity: z.strictObject({ type: z.string(), id: z.string() }).nullable(),
  purposeOfUse: PurposeOfUse,
  networkAddress: z.string().nullable(),
  emergency: z.boolean(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** A time bound in a query, normalised to the stored form (UTC with milliseconds) so text comparison is time comparison. */
const Instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

const IndexParam = z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** The caller's organisation log: its identity, key and latest signed checkpoint. */
export const AuditLogInfo = z.strictObject({
  logId: z.string(),
  origin: z.string(),
  /** C2SP verifier key (`name+keyid+base64`) that signs this deployment's checkpoints. */
  verifierKey: z.string(),
  size: z.number().int().nonnegative(),
  /** Latest signed checkpoint note, or null before the first one. */
  checkpoint: z.string().nullable(),
});
export type AuditLogInfo = z.infer<typeof AuditLogInfo>;

export const InclusionProofQuery = z.strictObject({ index: IndexParam, size: IndexParam });
export const InclusionProof = z.strictObject({
  index: z.number().int(),
  size: z.number().int(),
  leafHash: z.string(),
  proof: z.array(z.string()),
});
export type InclusionProof = z.infer<typeof InclusionProof>;

export const ConsistencyProofQuery = z.strictObject({ from: IndexParam, to: IndexParam });
export const ConsistencyProof = z.strictObject({ from: z.number().int(), to: z.number().int(), proof: z.array(z.string()) });
export type ConsistencyProof = z.infer<typeof ConsistencyProof>;

export const AUDIT_PAGE_MAX = 500;

export const AuditSearchQuery = z.strictObject({
  actor: Id.optional(),
  caseId: Id.optional(),
  type: AuditEventType.optional(),
  from: Instant.optional(),
  to: Instant.optional(),
  /** Page backwards: entries with index below this. */
  before: IndexParam.optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(100),
});
export type AuditSearchQuery = z.infer<typeof AuditSearchQuery>;

/**
 * An entry as listed, with `leaf`: the exact text (UTF-8) hashed into the log as its RFC 9162 leaf,
 * so a client hashes it itself and checks that it encodes the fields shown (encodeAuditLeaf).
 */
export const AuditListedEntry = AuditEntry.extend({ leaf: z.string() });
export type AuditListedEntry = z.infer<typeof AuditListedEntry>;

export const AuditEntryList = z.strictObject({ entries: z.array(AuditListedEntry), nextBefore: z.number().int().nullable() });
export type AuditEntryList = z.infer<typeof AuditEntryList>;

export const AuditExportQuery = z.strictObject({
  format: z.enum(['csv', 'fhir']),
  from: Instant.optional(),
  to: Instant.optional(),
  caseId: Id.optional(),
});
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;

export const AuditVerification = z.strictObject({
  logId: z.string(),
  entries: z.number().int(),
  checkpoints: z.number().int(),
  ok: z.boolean(),
  problems: z.array(z.strictObject({ index: z.number().int(), kind: z.string(), message: z.string() })),
  verifiedAt: Timestamp,
});
export type AuditVerification = z.infer<typeof AuditVerification>;

/**
 * A verification of the caller's organisation log, run by the server in the background (a whole
 * log takes seconds to minutes). At most one runs per log: starting one while another runs
 * answers the running one.
 */
export const AuditVerifyJob = z.strictObject({
  id: z.string(),
  logId: z.string(),
  state: z.enum(['running', 'done', 'failed']),
  startedAt: Timestamp,
  finishedAt: Timestamp.nullable(),
  /** The report, once done. */
  result: AuditVerification.nullable(),
  /** Why it could not finish (not a problem found in the log: those are in result). */
  error: z.string().nullable(),
});
export type AuditVerifyJob = z.infer<typeof AuditVerifyJob>;

export const AuditVerifyJobParams = z.strictObject({ jobId: z.string().min(1).max(64) });
/** The latest verification of the caller's log, if any. */
export const AuditVerifyStatus = z.strictObject({ job: AuditVerifyJob.nullable() });
export type AuditVerifyStatus = z.infer<typeof AuditVerifyStatus>;
