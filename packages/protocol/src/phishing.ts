import { z } from 'zod';
import { Id, Timestamp } from './common.js';
import { Role } from './account.js';

/**
 * Phishing resilience: simulated campaigns, reports, micro-lessons and the suspicious-mail check.
 *
 * Difficulty follows the NIST Phish Scale (Steves, Greene & Theofanos, NIST TN 2276, 2023 /
 * "Categorizing human phishing difficulty", J. Cybersecurity 2020): the number of observable cues
 * and the premise alignment together give the detection difficulty.
 */

/** NIST Phish Scale cue categories. */
export const CueCategory = z.enum(['error', 'technical', 'visual', 'language', 'tactic']);
export type CueCategory = z.infer<typeof CueCategory>;

export const PhishCue = z.strictObject({
  category: CueCategory,
  /** The NIST cue type, e.g. "sender display name and e-mail address", "sense of urgency". */
  label: z.string(),
  /** Exact text of the mail the cue is in, highlighted in the lesson (empty: not a text cue). */
  excerpt: z.string(),
  /** Plain language: what to notice and why it matters. */
  explanation: z.string(),
});
export type PhishCue = z.infer<typeof PhishCue>;

const rating = z.number().int().min(0).max(2);
/** The five premise-alignment elements of the Phish Scale, each rated 0 (none) .. 2 (strong). */
export const PremiseAlignment = z.strictObject({
  mimicsWorkplaceProcess: rating,
  workplaceRelevance: rating,
  alignsWithCurrentEvents: rating,
  concernOverNotClicking: rating,
  /** Subtracts: staff were recently warned or trained about exactly this premise. */
  previouslyWarned: rating,
});
export type PremiseAlignment = z.infer<typeof PremiseAlignment>;

export const CueBand = z.enum(['few', 'some', 'many']);
export const PremiseBand = z.enum(['low', 'medium', 'high']);
export const Difficulty = z.enum(['easy', 'medium', 'hard']);
export type Difficulty = z.infer<typeof Difficulty>;

export const LandingKind = z.enum(['login', 'download', 'form']);

export const PhishTemplateSummary = z.strictObject({
  id: z.string(),
  name: z.string(),
  theme: z.string(),
  subject: z.string(),
  fromName: z.string(),
  cueCount: z.number().int(),
  cueBand: CueBand,
  premiseBand: PremiseBand,
  difficulty: Difficulty,
  /** Written by the organisation's admins (false: the built-in library). */
  custom: z.boolean(),
});
export type PhishTemplateSummary = z.infer<typeof PhishTemplateSummary>;

export const PhishTemplate = PhishTemplateSummary.extend({
  fromLocalPart: z.string(),
  text: z.string(),
  /** What the link shows in the HTML version; its target is always the tracked link. */
  linkText: z.string(),
  html: z.string(),
  cues: z.array(PhishCue),
  premise: PremiseAlignment,
  landing: z.strictObject({ kind: LandingKind, title: z.string(), fields: z.array(z.string()) }),
});
export type PhishTemplate = z.infer<typeof PhishTemplate>;
export const PhishTemplateList = z.strictObject({ templates: z.array(PhishTemplateSummary) });

export const TemplateIdParams = z.strictObject({ templateId: z.string().regex(/^[a-z0-9-]{1,64}$/) });

/**
 * A custom template as an admin writes it. The server refuses unknown merge fields
 * (UNKNOWN_MERGE_FIELD, naming the field), sanitises the HTML (no scripts, no event handlers, only
 * http/https/mailto links) and computes the Phish Scale difficulty from the cues and premise, as
 * for the built-in ones. Empty `html`: made from the text.
 */
export const TemplateBody = z.strictObject({
  name: z.string().trim().min(1).max(120),
  theme: z.string().trim().min(1).max(120),
  subject: z.string().trim().min(1).max(300),
  fromName: z.string().trim().min(1).max(120),
  fromLocalPart: z.string().regex(/^[a-z0-9._-]{1,64}$/, 'lower-case letters, digits, . _ -'),
  text: z.string().min(1).max(20_000),
  html: z.string().max(200_000),
  linkText: z.string().trim().min(1).max(300),
  cues: z.array(PhishCue).min(1).max(40),
  premise: PremiseAlignment,
  landing: z.strictObject({ kind: LandingKind, title: z.string().trim().min(1).max(120), fields: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,39}$/)).min(1).max(8) }),
});
export type TemplateBody = z.infer<typeof TemplateBody>;

export const CampaignStatus = z.enum(['draft', 'scheduled', 'sending', 'completed', 'cancelled']);
export type CampaignStatus = z.infer<typeof CampaignStatus>;

const hour = z.number().int().min(0).max(24);
export const BusinessHours = z
  .strictObject({
    startHour: hour,
    endHour: hour,
    /** IANA zone the hours are in. */
    timeZone: z.string().min(1).max(64),
    weekdaysOnly: z.boolean(),
  })
  .refine((b) => b.startHour < b.endHour, { message: 'startHour must be before endHour' });
export type BusinessHours = z.infer<typeof BusinessHours>;

/** At most this many days between the first and the last send. */
export const MAX_CAMPAIGN_WINDOW_DAYS = 31;

export const CampaignTarget = z.strictObject({
  everyone: z.boolean().default(false),
  departmentIds: z.array(Id).max(200).default([]),
  roles: z.array(Role).max(10).default([]),
  accountIds: z.array(Id).max(10_000).default([]),
});

export const CreateCampaignBody = z.strictObject({
  name: z.string().trim().min(1).max(120),
  templateId: z.string().regex(/^[a-z0-9-]{1,64}$/),
  target: CampaignTarget,
  window: z.strictObject({ start: Timestamp, end: Timestamp }),
  businessHours: BusinessHours,
  /** The sender domain shown in From (a lookalike of yours, registered for training). */
  senderDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/, 'a domain name'),
});
export type CreateCampaignBody = z.infer<typeof CreateCampaignBody>;

export const Campaign = z.strictObject({
  id: Id,
  name: z.string(),
  templateId: z.string(),
  templateName: z.string(),
  difficulty: Difficulty,
  status: CampaignStatus,
  windowStart: Timestamp,
  windowEnd: Timestamp,
  senderDomain: z.string(),
  recipientCount: z.number().int(),
  createdBy: Id,
  createdAt: Timestamp,
  launchedAt: Timestamp.nullable(),
  /** The caller's role on this campaign (campaigns are visible only to their members). */
  myRole: z.enum(['owner', 'author', 'viewer']),
});
export type Campaign = z.infer<typeof Campaign>;
export const CampaignList = z.strictObject({ campaigns: z.array(Campaign) });

/**
 * Sharing a campaign. The creator is its one owner, who grants author (launch, cancel, read) or
 * viewer (read results only) to other admins and security officers of the same organisation.
 */
export const CampaignRole = z.enum(['owner', 'author', 'viewer']);
export type CampaignRole = z.infer<typeof CampaignRole>;
export const GrantableCampaignRole = z.enum(['author', 'viewer']);
export const CampaignMember = z.strictObject({
  accountId: Id,
  displayName: z.string(),
  email: z.string(),
  role: CampaignRole,
  grantedAt: Timestamp,
});
export type CampaignMember = z.infer<typeof CampaignMember>;
export const CampaignSharing = z.strictObject({
  members: z.array(CampaignMember),
  /** Admins and security officers who could be added (listed for the owner only; empty otherwise). */
  candidates: z.array(z.strictObject({ accountId: Id, displayName: z.string(), email: z.string() })),
});
export type CampaignSharing = z.infer<typeof CampaignSharing>;
export const ShareCampaignBody = z.strictObject({ role: GrantableCampaignRole });
export type ShareCampaignBody = z.infer<typeof ShareCampaignBody>;
export const CampaignMemberParams = z.strictObject({ id: Id, accountId: Id });

export const RecipientStatus = z.enum(['scheduled', 'sending', 'sent', 'retrying', 'failed', 'cancelled']);

/** Append-only tracking events. `click` is any GET of the link; `click_confirmed` is the landing script's proof of a person. */
/** `bounced`: a permanent delivery failure notice (RFC 3464 DSN, Action failed / 5.x.x) came back for this mail; its reason holds the status code. */
export const PhishEventKind = z.enum(['sent', 'send_failed', 'bounced', 'opened', 'click', 'click_confirmed', 'submitted', 'reported', 'lesson_completed']);
export type PhishEventKind = z.infer<typeof PhishEventKind>;

export const PhishEvent = z.strictObject({
  kind: PhishEventKind,
  at: Timestamp,
  /** For clicks: whether the bot rules (docs/operations/phishing.md) judged it automated. */
  bot: z.boolean(),
  reason: z.string().nullable(),
  /** For submissions: which fields were filled, never their values. */
  fieldsFilled: z.array(z.string()).nullable(),
});
export type PhishEvent = z.infer<typeof PhishEvent>;

export const RecipientTimeline = z.strictObject({
  id: Id,
  /** Pseudonym in privacy mode, else the person's name. */
  label: z.string(),
  department: z.string().nullable(),
  role: Role,
  status: RecipientStatus,
  scheduledAt: Timestamp,
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  events: z.array(PhishEvent),
  /**
   * When the mail counts as delivered: sent, no permanent bounce, and the delivered window
   * (config phishing.deliveredAfterMinutes) passed, shown at sent + window. Null otherwise, and
   * always null when no bounce address is configured (bounces could not come back).
   */
  deliveredAt: Timestamp.nullable(),
});
export const CampaignRecipients = z.strictObject({ privacyMode: z.boolean(), recipients: z.array(RecipientTimeline) });
export type CampaignRecipients = z.infer<typeof CampaignRecipients>;

export const ResultCounts = z.strictObject({
  recipients: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  /** Sent mail that came back with a permanent delivery failure. */
  bounced: z.number().int(),
  /** Sent, not bounced, and past the delivered window; null when no bounce address is configured. */
  delivered: z.number().int().nullable(),
  opened: z.number().int(),
  /** People (not events) whose click a person made, per the bot rules. */
  clickedHuman: z.number().int(),
  /** People whose link was fetched only by scanners. */
  clickedBotOnly: z.number().int(),
  submitted: z.number().int(),
  reported: z.number().int(),
  lessonsCompleted: z.number().int(),
  clickRate: z.number(),
  submitRate: z.number(),
  reportRate: z.number(),
  /** reports / human clicks; null when nobody clicked. */
  resilience: z.number().nullable(),
  medianSecondsToReport: z.number().nullable(),
});
export type ResultCounts = z.infer<typeof ResultCounts>;

export const GroupResult = z.strictObject({ key: z.string(), label: z.string(), counts: ResultCounts.nullable() });

export const CampaignResults = z.strictObject({
  campaignId: Id,
  difficulty: Difficulty,
  counts: ResultCounts,
  /** Groups smaller than the privacy threshold have counts null. */
  byDepartment: z.array(GroupResult),
  byRole: z.array(GroupResult),
});
export type CampaignResults = z.infer<typeof CampaignResults>;

export const OrgPhishingOverview = z.strictObject({
  byDifficulty: z.array(GroupResult),
  campaigns: z.array(z.strictObject({ campaignId: Id, name: z.string(), launchedAt: Timestamp.nullable(), difficulty: Difficulty, counts: ResultCounts })),
  repeatClickers: z.strictObject({ threshold: z.number().int(), count: z.number().int() }),
});
export type OrgPhishingOverview = z.infer<typeof OrgPhishingOverview>;

/** Largest raw mail accepted by the report and check endpoints (documented in docs/operations/phishing.md). */
export const MAX_EML_BYTES = 2 * 1024 * 1024;
export const RawEml = z.string().min(1).max(MAX_EML_BYTES);

export const ReportPhishingBody = z.strictObject({
  /** The mail as .eml text, when the reporter has it. */
  eml: RawEml.optional(),
  /** What made them suspicious; optional, free text. */
  note: z.string().trim().max(2000).optional(),
});
export type ReportPhishingBody = z.infer<typeof ReportPhishingBody>;

export const ReportOutcome = z.strictObject({
  /** True when the mail was one of our simulations: the reporter gets credit and a thank-you. */
  simulated: z.boolean(),
  reportId: Id.nullable(),
  message: z.string(),
});
export type ReportOutcome = z.infer<typeof ReportOutcome>;

export const Verdict = z.enum(['likely_phishing', 'suspicious', 'no_signs']);
export type Verdict = z.infer<typeof Verdict>;

export const WarningSign = z.strictObject({
  code: z.string(),
  severity: z.enum(['high', 'medium', 'low']),
  title: z.string(),
  explanation: z.string(),
  evidence: z.string().nullable(),
});
export type WarningSign = z.infer<typeof WarningSign>;

export const MailCheckResult = z.strictObject({
  verdict: Verdict,
  score: z.number(),
  from: z.string().nullable(),
  subject: z.string().nullable(),
  date: z.string().nullable(),
  attachments: z.array(z.strictObject({ filename: z.string().nullable(), contentType: z.string(), size: z.number().int() })),
  signs: z.array(WarningSign),
});
export type MailCheckResult = z.infer<typeof MailCheckResult>;
export const MailCheckBody = z.strictObject({ eml: RawEml });

export const TriageStatus = z.enum(['new', 'phishing', 'spam', 'benign']);
export const TriageItem = z.strictObject({
  id: Id,
  source: z.enum(['button', 'mailbox', 'check']),
  reporter: z.string().nullable(),
  reportedAt: Timestamp,
  subject: z.string().nullable(),
  from: z.string().nullable(),
  note: z.string().nullable(),
  verdict: Verdict.nullable(),
  signs: z.array(WarningSign),
  status: TriageStatus,
  decidedAt: Timestamp.nullable(),
});
export type TriageItem = z.infer<typeof TriageItem>;
export const TriageList = z.strictObject({ items: z.array(TriageItem) });
export const DecideTriageBody = z.strictObject({ status: TriageStatus.exclude(['new']) });

export const LessonIdParams = z.strictObject({ lessonId: z.string().regex(/^[a-z0-9-]{1,64}$/) });
export const LessonSummary = z.strictObject({
  id: z.string(),
  title: z.string(),
  minutes: z.number(),
  completedAt: Timestamp.nullable(),
  bestScore: z.number().int().nullable(),
  questionCount: z.number().int(),
});
export const LessonList = z.strictObject({ lessons: z.array(LessonSummary) });
export const Lesson = z.strictObject({
  id: z.string(),
  title: z.string(),
  minutes: z.number(),
  sections: z.array(z.strictObject({ heading: z.string(), body: z.string() })),
  quiz: z.array(z.strictObject({ question: z.string(), options: z.array(z.string()) })),
});
export type Lesson = z.infer<typeof Lesson>;
export const QuizAnswers = z.strictObject({ answers: z.array(z.number().int().min(0).max(9)).max(20) });
export const QuizResult = z.strictObject({
  correct: z.number().int(),
  total: z.number().int(),
  passed: z.boolean(),
  feedback: z.array(z.strictObject({ correct: z.boolean(), explanation: z.string() })),
});
export type QuizResult = z.infer<typeof QuizResult>;

/** The teachable moment a clicker lands on: the very mail, its cues highlighted. Public, by tracking token. */
export const TrackingToken = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
export const TeachableMoment = z.strictObject({
  subject: z.string(),
  from: z.string(),
  text: z.string(),
  cues: z.array(PhishCue),
  difficulty: Difficulty,
  completed: z.boolean(),
});
export type TeachableMoment = z.infer<typeof TeachableMoment>;
export const TokenParams = z.strictObject({ token: TrackingToken });

export const PhishingSettings = z.strictObject({
  privacyMode: z.boolean(),
  /** Groups smaller than this are not shown in privacy mode. */
  minGroupSize: z.number().int().min(2).max(100),
  /** Per-person events older than this are deleted (privacy mode). */
  retentionDays: z.number().int().min(7).max(3650),
  repeatClickerThreshold: z.number().int().min(2).max(20),
});
export type PhishingSettings = z.infer<typeof PhishingSettings>;
