import { z } from 'zod';
import { Id, Timestamp } from './common.js';
import { Conversation } from './messaging.js';
import { MAX_CONVERSATION_DEVICES } from './messaging.js';

/**
 * Patient cases: a consult is an MLS conversation of kind `case`. What the server knows of a case
 * is only what it needs to route, page and keep records: the specialty asked (a department), the
 * urgency, the status, the participants and times. The patient reference (initials, age band, sex,
 * identifiers) and the SBAR consult travel encrypted inside the conversation, never here.
 */
export const Urgency = z.enum(['routine', 'urgent', 'emergency']);
export type Urgency = z.infer<typeof Urgency>;

export const CaseStatus = z.enum(['open', 'answered', 'closed']);
export type CaseStatus = z.infer<typeof CaseStatus>;

/**
 * Paging of an urgent or emergency consult, as in PagerDuty-style escalation: the people on the
 * current step are notified (and re-notified) until one of them accepts; after the step's timeout,
 * or when everyone on it declines, the next non-empty step is paged. `unanswered`: the last step
 * timed out; the requester is told.
 */
export const PageState = z.enum(['paging', 'accepted', 'unanswered', 'cancelled']);
export type PageState = z.infer<typeof PageState>;

export const PageTarget = z.strictObject({
  accountId: Id,
  displayName: z.string(),
  step: z.number().int().positive(),
  notifiedAt: Timestamp.nullable(),
  declinedAt: Timestamp.nullable(),
});
export type PageTarget = z.infer<typeof PageTarget>;

export const CasePage = z.strictObject({
  state: PageState,
  /** The step being paged now (1-based); the last step reached once settled. */
  step: z.number().int().positive(),
  stepCount: z.number().int().nonnegative(),
  stepStartedAt: Timestamp,
  /** When the server next re-notifies or escalates; null once settled. */
  nextActionAt: Timestamp.nullable(),
  notifications: z.number().int().nonnegative(),
  acceptedBy: Id.nullable(),
  acceptedAt: Timestamp.nullable(),
  targets: z.array(PageTarget),
});
export type CasePage = z.infer<typeof CasePage>;

export const CaseSummary = z.strictObject({
  id: Id,
  departmentId: Id,
  departmentName: z.string(),
  urgency: Urgency,
  status: CaseStatus,
  openedBy: Id,
  openedByName: z.string(),
  openedAt: Timestamp,
  answeredAt: Timestamp.nullable(),
  closedAt: Timestamp.nullable(),
  updatedAt: Timestamp,
  page: CasePage.nullable(),
  /** The caller is on the step being paged now and has not declined: they should accept or decline. */
  awaitingMyResponse: z.boolean(),
});
export type CaseSummary = z.infer<typeof CaseSummary>;

export const CaseDetail = z.strictObject({ case: CaseSummary, conversation: Conversation });
export type CaseDetail = z.infer<typeof CaseDetail>;

export const CaseFilter = z.enum(['all', 'mine', 'department', 'open', 'urgent', 'awaiting']);
export type CaseFilter = z.infer<typeof CaseFilter>;
export const CaseListQuery = z.strictObject({ filter: CaseFilter.default('all') });
export const CaseList = z.strictObject({ cases: z.array(CaseSummary) });
export type CaseList = z.infer<typeof CaseList>;

export const OpenCaseBody = z.strictObject({
  /** Chosen by the client; also the MLS group id. */
  id: Id,
  /** The specialty asked: a department of the organisation. Its on-call people join the case. */
  departmentId: Id,
  urgency: Urgency,
  /** Colleagues the requester adds besides the on-call chain (e.g. a resident on the ward). */
  memberAccountIds: z.array(Id).max(MAX_CONVERSATION_DEVICES).default([]),
});
export type OpenCaseBody = z.input<typeof OpenCaseBody>;

export const EscalateBody = z.strictObject({
  /** Page this step now (manual escalation); the next non-empty step when absent. */
  step: z.number().int().positive().optional(),
});
export type EscalateBody = z.input<typeof EscalateBody>;

/** The outcome summary itself is clinical content: it is sent encrypted in the conversation first. */
export const CloseCaseBody = z.strictObject({ outcomeRecorded: z.literal(true) });
export type CloseCaseBody = z.infer<typeof CloseCaseBody>;

// On-call rosters: per department, ordered steps; everyone on a step is paged together.
export const OnCallEntry = z.strictObject({
  id: Id,
  step: z.number().int().positive(),
  accountId: Id,
  displayName: z.string(),
  /** Shift window; open-ended when null. */
  startsAt: Timestamp.nullable(),
  endsAt: Timestamp.nullable(),
});
export type OnCallEntry = z.infer<typeof OnCallEntry>;

export const OnCallRoster = z.strictObject({
  departmentId: Id,
  departmentName: z.string(),
  /** Every entry, also those outside their shift window. */
  entries: z.array(OnCallEntry),
  /** Who would be paged now, step by step (empty steps left out). */
  now: z.array(z.strictObject({ step: z.number().int().positive(), people: z.array(z.strictObject({ accountId: Id, displayName: z.string() })) })),
});
export type OnCallRoster = z.infer<typeof OnCallRoster>;

export const MAX_ONCALL_ENTRIES = 50;
export const SetOnCallBody = z.strictObject({
  entries: z
    .array(
      z.strictObject({
        step: z.number().int().min(1).max(20),
        accountId: Id,
        startsAt: Timestamp.nullable().default(null),
        endsAt: Timestamp.nullable().default(null),
      }),
    )
    .max(MAX_ONCALL_ENTRIES),
});
export type SetOnCallBody = z.input<typeof SetOnCallBody>;
export const DepartmentParams = z.strictObject({ departmentId: Id });

/** Organisation policy for cases. Defaults follow the field: urgent 15 min, emergency 5 min per step. */
export const CasePolicy = z.strictObject({
  urgentStepSeconds: z.number().int().min(60).max(24 * 3600),
  emergencyStepSeconds: z.number().int().min(30).max(24 * 3600),
  /** Re-notify the current step this often until someone accepts. */
  renotifySeconds: z.number().int().min(30).max(3600),
  /** At most this many urgent or emergency consults per requester per hour (alarm fatigue). */
  urgentPerHour: z.number().int().min(1).max(1000),
  /** Days a closed case's messages are kept on the server; null keeps them. */
  retentionDaysAfterClose: z.number().int().min(1).max(36500).nullable(),
  /** Messages in new conversations and cases disappear after this many days (1 to 365); null keeps them. */
  messageExpiryDays: z.number().int().min(1).max(365).nullable(),
});
export type CasePolicy = z.infer<typeof CasePolicy>;
export const UpdateCasePolicyBody = CasePolicy.partial();
export type UpdateCasePolicyBody = z.infer<typeof UpdateCasePolicyBody>;

/** A client exported a closed case (built and validated on the device): the server records that it happened. */
export const CaseExportBody = z.strictObject({ format: z.enum(['fhir-r4-bundle']) });
export type CaseExportBody = z.infer<typeof CaseExportBody>;
