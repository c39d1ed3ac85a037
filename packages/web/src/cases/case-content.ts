import { z } from 'zod';

/**
 * The clinical content of a case, sent as JSON text inside MLS application messages, so only the
 * case's members ever read it. The server knows the case's department, urgency and status; the
 * patient reference and the SBAR consult (Situation, Background, Assessment, Recommendation;
 * Joint Commission / NHS Institute SBAR tool) exist in clear only on members' devices.
 */

export const ageBands = ['0-9', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', '70-79', '80-89', '90+'] as const;
export const AgeBand = z.enum(ageBands);
export type AgeBand = z.infer<typeof AgeBand>;

/** Administrative sex as on the ward: female, male, other (X), unknown. */
export const PatientSex = z.enum(['F', 'M', 'X', 'U']);
export type PatientSex = z.infer<typeof PatientSex>;

export const sexLabels: Record<PatientSex, string> = { F: 'Female', M: 'Male', X: 'Other', U: 'Unknown' };

const line = (max: number) => z.string().trim().max(max);

export const PatientReference = z.strictObject({
  /** Initials only ("J.D."), never the name. */
  initials: line(12).min(1, 'enter the patient’s initials'),
  ageBand: AgeBand,
  sex: PatientSex,
  /** A hospital number (MRN) to find the record; stays inside the encrypted case. */
  localIdentifier: line(64).min(1).optional(),
});
export type PatientReference = z.infer<typeof PatientReference>;

export const MAX_SBAR_FIELD = 4000;
export const Sbar = z.strictObject({
  situation: line(MAX_SBAR_FIELD).min(1, 'describe the situation'),
  background: line(MAX_SBAR_FIELD),
  assessment: line(MAX_SBAR_FIELD),
  recommendation: line(MAX_SBAR_FIELD).min(1, 'say what you are asking'),
});
export type Sbar = z.infer<typeof Sbar>;

export const CaseHeader = z.strictObject({
  type: z.literal('case.header'),
  v: z.literal(1),
  patient: PatientReference,
  sbar: Sbar,
});
export type CaseHeader = z.infer<typeof CaseHeader>;

export const MAX_OUTCOME = 4000;
export const CaseOutcome = z.strictObject({
  type: z.literal('case.outcome'),
  /** Optional on read: early outcome messages carried no version. */
  v: z.literal(1).default(1),
  summary: line(MAX_OUTCOME).min(1, 'write the outcome'),
});
export type CaseOutcome = z.infer<typeof CaseOutcome>;

export type CaseContent = CaseHeader | CaseOutcome;
const CaseContentSchema = z.discriminatedUnion('type', [CaseHeader, CaseOutcome]);

/** The message text for a case header; throws (a ZodError) on content the schema refuses. */
export const encodeCaseHeader = (input: Omit<z.input<typeof CaseHeader>, 'type' | 'v'>): string =>
  JSON.stringify(CaseHeader.parse({ type: 'case.header', v: 1, ...input }));

export const encodeCaseOutcome = (summary: string): string => JSON.stringify(CaseOutcome.parse({ type: 'case.outcome', v: 1, summary }));

/**
 * Reads case content from a message's text; null for ordinary text, for JSON that is not case
 * content, and for case content that does not validate (shown as text then, never half-read).
 */
export function parseCaseContent(text: string): CaseContent | null {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{') || !trimmed.includes('"case.')) return null;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return null;
  }
  const parsed = CaseContentSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export const parseCaseHeader = (text: string): CaseHeader | null => {
  const content = parseCaseContent(text);
  return content?.type === 'case.header' ? content : null;
};

export const parseCaseOutcome = (text: string): CaseOutcome | null => {
  const content = parseCaseContent(text);
  return content?.type === 'case.outcome' ? content : null;
};

/** "J.D., 60-69, male": the patient reference as shown in lists (without the local identifier). */
export const describePatient = (p: PatientReference): string => `${p.initials}, ${p.ageBand}, ${sexLabels[p.sex].toLowerCase()}`;
