/**
 * Export of a closed case to the hospital record as a FHIR R4 Bundle, built and checked on the
 * device (the server never sees the case in clear; it only records that an export happened).
 *
 * What we emit (FHIR R4 4.0.1, https://hl7.org/fhir/R4/):
 * - Bundle of type `collection` (https://hl7.org/fhir/R4/bundle.html), entries with `urn:uuid:` fullUrls
 *   and references between them by those fullUrls (bundle.html#references).
 * - Patient: the pseudonymous reference (initials as name text, administrative gender, the local
 *   identifier when the requester gave one). The age band has no R4 element and goes in the SBAR text.
 * - Practitioner for every participant who wrote or was paged.
 * - Communication (https://hl7.org/fhir/R4/communication.html): one for the consult request, its
 *   SBAR as four payload strings; one per message in the conversation, `inResponseTo` the consult;
 *   attachments as `payload.contentReference` to a DocumentReference.
 * - DocumentReference placeholders (https://hl7.org/fhir/R4/documentreference.html) for files sent
 *   in the case: type, name, size and SHA-256; the bytes and keys stay in Consilium.
 * - Provenance (https://hl7.org/fhir/R4/provenance.html) naming every exported resource, who exported
 *   it and when.
 * `validateCaseBundle` checks the structure of exactly this subset (required elements, value sets,
 * id and dateTime formats, references that resolve inside the bundle).
 */
import { z } from 'zod';
import { decodeMessageContent, type AttachmentDescriptor, type CaseSummary, type Urgency } from '@consilium/protocol';
import type { ThreadMessage } from '../messaging/types';
import { parseCaseContent, sexLabels, type CaseHeader, type PatientSex } from './case-content';

// ---- the schema of the subset we emit --------------------------------------------------------

/** R4 `id`: https://hl7.org/fhir/R4/datatypes.html#id */
const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/);
/** R4 `dateTime` / `instant` with a time zone: https://hl7.org/fhir/R4/datatypes.html#dateTime */
const FhirDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/);
const Uri = z.string().min(1).regex(/^\S+$/);
const UrnUuid = z.string().regex(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const Reference = z.strictObject({ reference: UrnUuid, display: z.string().min(1).optional() });
const Identifier = z.strictObject({ system: Uri, value: z.string().min(1) });
const Coding = z.strictObject({ system: Uri, code: z.string().min(1), display: z.string().min(1).optional() });
const CodeableConcept = z.strictObject({ coding: z.array(Coding).min(1).optional(), text: z.string().min(1).optional() });
const Narrative = z.strictObject({ status: z.literal('generated'), div: z.string().startsWith('<div xmlns="http://www.w3.org/1999/xhtml">') });

const Patient = z.strictObject({
  resourceType: z.literal('Patient'),
  id: FhirId,
  identifier: z.array(Identifier).optional(),
  name: z.array(z.strictObject({ text: z.string().min(1) })).optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']),
});

const Practitioner = z.strictObject({
  resourceType: z.literal('Practitioner'),
  id: FhirId,
  identifier: z.array(Identifier).min(1),
  name: z.array(z.strictObject({ text: z.string().min(1) })).min(1),
});

const Payload = z.union([z.strictObject({ contentString: z.string().min(1) }), z.strictObject({ contentReference: Reference })]);
const Communication = z.strictObject({
  resourceType: z.literal('Communication'),
  id: FhirId,
  identifier: z.array(Identifier).optional(),
  // https://hl7.org/fhir/R4/valueset-event-status.html
  status: z.enum(['preparation', 'in-progress', 'not-done', 'on-hold', 'stopped', 'completed', 'entered-in-error', 'unknown']),
  category: z.array(CodeableConcept).optional(),
  // https://hl7.org/fhir/R4/valueset-request-priority.html
  priority: z.enum(['routine', 'urgent', 'asap', 'stat']).optional(),
  subject: Reference.optional(),
  topic: CodeableConcept.optional(),
  inResponseTo: z.array(Reference).optional(),
  sent: FhirDateTime.optional(),
  recipient: z.array(Reference).optional(),
  sender: Reference.optional(),
  payload: z.array(Payload).min(1),
  text: Narrative.optional(),
});

const DocumentReference = z.strictObject({
  resourceType: z.literal('DocumentReference'),
  id: FhirId,
  identifier: z.array(Identifier).optional(),
  // https://hl7.org/fhir/R4/valueset-document-reference-status.html
  status: z.enum(['current', 'superseded', 'entered-in-error']),
  subject: Reference.optional(),
  date: FhirDateTime.optional(),
  author: z.array(Reference).optional(),
  description: z.string().min(1).optional(),
  content: z
    .array(
      z.strictObject({
        attachment: z.strictObject({
          contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/),
          title: z.string().min(1),
          size: z.number().int().nonnegative(),
          creation: FhirDateTime.optional(),
        }),
      }),
    )
    .min(1),
});

const Provenance = z.strictObject({
  resourceType: z.literal('Provenance'),
  id: FhirId,
  target: z.array(Reference).min(1),
  recorded: FhirDateTime,
  activity: CodeableConcept.optional(),
  agent: z
    .array(
      z.strictObject({
        type: CodeableConcept.optional(),
        who: Reference,
      }),
    )
    .min(1),
});

const Resource = z.discriminatedUnion('resourceType', [Patient, Practitioner, Communication, DocumentReference, Provenance]);
export type FhirResource = z.infer<typeof Resource>;

const BundleShape = z.strictObject({
  resourceType: z.literal('Bundle'),
  id: FhirId,
  identifier: Identifier.optional(),
  type: z.enum(['collection', 'document']),
  timestamp: FhirDateTime,
  entry: z.array(z.strictObject({ fullUrl: UrnUuid, resource: Resource })).min(1),
});

/** Every `reference` inside a resource, wherever it sits. */
function referencesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'reference' && typeof v === 'string') out.push(v);
      else referencesIn(v, out);
    }
  }
  return out;
}

export const CaseBundle = BundleShape.superRefine((bundle, ctx) => {
  const fullUrls = new Set<string>();
  const ids = new Set<string>();
  bundle.entry.forEach((e, i) => {
    if (fullUrls.has(e.fullUrl)) ctx.addIssue({ code: 'custom', path: ['entry', i, 'fullUrl'], message: `duplicate fullUrl ${e.fullUrl}` });
    fullUrls.add(e.fullUrl);
    const key = `${e.resource.resourceType}/${e.resource.id}`;
    if (ids.has(key)) ctx.addIssue({ code: 'custom', path: ['entry', i, 'resource', 'id'], message: `duplicate resource ${key}` });
    ids.add(key);
    // A urn:uuid fullUrl names the resource: its id is the uuid.
    if (e.fullUrl !== `urn:uuid:${e.resource.id}`) ctx.addIssue({ code: 'custom', path: ['entry', i, 'fullUrl'], message: 'fullUrl does not match the resource id' });
  });
  bundle.entry.forEach((e, i) => {
    for (const reference of referencesIn(e.resource)) {
      if (!fullUrls.has(reference)) ctx.addIssue({ code: 'custom', path: ['entry', i, 'resource'], message: `reference ${reference} does not resolve inside the bundle` });
    }
  });
  if (!bundle.entry.some((e) => e.resource.resourceType === 'Provenance')) ctx.addIssue({ code: 'custom', path: ['entry'], message: 'the bundle has no Provenance' });
});
export type CaseBundle = z.infer<typeof CaseBundle>;

/** Checks a bundle; the list of problems is empty when it is valid. */
export function validateCaseBundle(bundle: unknown): { ok: true; bundle: CaseBundle } | { ok: false; problems: string[] } {
  const parsed = CaseBundle.safeParse(bundle);
  if (parsed.success) return { ok: true, bundle: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(bundle)'}: ${i.message}`) };
}

// ---- building the bundle ---------------------------------------------------------------------

const SYSTEM = {
  case: 'urn:consilium:case',
  message: 'urn:consilium:message',
  account: 'urn:consilium:account',
  localIdentifier: 'urn:consilium:patient-local-identifier',
  sha256: 'urn:consilium:attachment-sha256',
};

const genderOf: Record<PatientSex, 'female' | 'male' | 'other' | 'unknown'> = { F: 'female', M: 'male', X: 'other', U: 'unknown' };
const priorityOf: Record<Urgency, 'routine' | 'urgent' | 'stat'> = { routine: 'routine', urgent: 'urgent', emergency: 'stat' };

export interface CaseExportInput {
  summary: CaseSummary;
  members: { accountId: string; displayName: string }[];
  /** The case conversation as decrypted on this device, oldest first. */
  messages: ThreadMessage[];
  exporter: { accountId: string; displayName: string };
  exportedAt: Date;
  /** Fresh UUIDs; tests pass a deterministic source. */
  newId?: () => string;
}

export interface CaseExport {
  bundle: CaseBundle;
  /** Messages that could not be exported (not decrypted on this device, or never sent). */
  skipped: number;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Builds the bundle and validates it; throws when the result would not be valid. */
export function buildCaseBundle(input: CaseExportInput): CaseExport {
  const newId = input.newId ?? (() => crypto.randomUUID());
  const { summary } = input;
  const entries: { fullUrl: string; resource: FhirResource }[] = [];
  const add = <R extends FhirResource>(make: (id: string) => R): { reference: string } => {
    const id = newId();
    entries.push({ fullUrl: `urn:uuid:${id}`, resource: make(id) });
    return { reference: `urn:uuid:${id}` };
  };

  const delivered = input.messages.filter((m) => m.seq !== null && m.status !== 'undecryptable' && m.status !== 'failed' && m.status !== 'sending');
  const skipped = input.messages.length - delivered.length;
  let header: CaseHeader | null = null;
  for (const m of delivered) {
    const content = parseCaseContent(m.text);
    if (content?.type === 'case.header') {
      header = content;
      break;
    }
  }
  if (!header) throw new Error('the case header (patient reference and consult) is not on this device: it cannot be exported from here');

  const patient = header.patient;
  const patientRef = add((id) => ({
    resourceType: 'Patient' as const,
    id,
    ...(patient.localIdentifier && { identifier: [{ system: SYSTEM.localIdentifier, value: patient.localIdentifier }] }),
    name: [{ text: patient.initials }],
    gender: genderOf[patient.sex],
  }));

  const people = new Map<string, string>();
  const person = (accountId: string, displayName: string) => {
    if (!people.has(accountId)) people.set(accountId, displayName);
  };
  person(summary.openedBy, summary.openedByName);
  for (const m of input.members) person(m.accountId, m.displayName);
  for (const t of summary.page?.targets ?? []) person(t.accountId, t.displayName);
  person(input.exporter.accountId, input.exporter.displayName);
  for (const m of delivered) person(m.senderAccountId, m.senderName);
  const practitioner = new Map<string, { reference: string; display: string }>();
  for (const [accountId, displayName] of people) {
    const ref = add((id) => ({
      resourceType: 'Practitioner' as const,
      id,
      identifier: [{ system: SYSTEM.account, value: accountId }],
      name: [{ text: displayName }],
    }));
    practitioner.set(accountId, { ...ref, display: displayName });
  }
  const who = (accountId: string) => practitioner.get(accountId)!;

  const sbar = header.sbar;
  const sbarLines: [string, string][] = [
    ['Situation', sbar.situation],
    ['Background', sbar.background],
    ['Assessment', sbar.assessment],
    ['Recommendation', sbar.recommendation],
  ];
  const acceptedBy = summary.page?.acceptedBy;
  const consultRef = add((id) => ({
    resourceType: 'Communication' as const,
    id,
    identifier: [{ system: SYSTEM.case, value: summary.id }],
    status: 'completed' as const,
    category: [{ text: 'Consult request (SBAR)' }],
    priority: priorityOf[summary.urgency],
    subject: patientRef,
    topic: { text: `Consult to ${summary.departmentName}` },
    sent: summary.openedAt,
    sender: who(summary.openedBy),
    ...(acceptedBy && practitioner.has(acceptedBy) && { recipient: [who(acceptedBy)] }),
    payload: [
      { contentString: `Patient: ${patient.initials}, age ${patient.ageBand}, ${sexLabels[patient.sex].toLowerCase()}` },
      ...sbarLines.filter(([, text]) => text).map(([label, text]) => ({ contentString: `${label}: ${text}` })),
    ],
    text: {
      status: 'generated' as const,
      div: `<div xmlns="http://www.w3.org/1999/xhtml">${sbarLines
        .filter(([, text]) => text)
        .map(([label, text]) => `<p><b>${label}:</b> ${escapeXml(text)}</p>`)
        .join('')}</div>`,
    },
  }));

  const exported = [consultRef];
  const documentOf = (a: AttachmentDescriptor, m: ThreadMessage) =>
    add((id) => ({
      resourceType: 'DocumentReference' as const,
      id,
      identifier: [{ system: SYSTEM.sha256, value: a.sha256 }],
      status: 'current' as const,
      subject: patientRef,
      date: m.at,
      author: [who(m.senderAccountId)],
      description: 'File shared in the consult; the content stays end-to-end encrypted in Consilium and was not exported.',
      content: [{ attachment: { contentType: a.contentType, title: a.fileName, size: a.size, creation: m.at } }],
    }));

  for (const m of delivered) {
    const content = parseCaseContent(m.text);
    if (content?.type === 'case.header') continue;
    const decoded = decodeMessageContent(m.text);
    const attachments = m.attachments ?? decoded.attachments;
    const text = content?.type === 'case.outcome' ? content.summary : decoded.text;
    const documents = attachments.map((a) => documentOf(a, m));
    exported.push(...documents);
    const payload = [...(text.trim() ? [{ contentString: text }] : []), ...documents.map((d) => ({ contentReference: d }))];
    if (payload.length === 0) continue;
    exported.push(
      add((id) => ({
        resourceType: 'Communication' as const,
        id,
        identifier: [{ system: SYSTEM.message, value: `${summary.id}:${m.seq}` }],
        status: 'completed' as const,
        ...(content?.type === 'case.outcome' && { category: [{ text: 'Outcome summary' }] }),
        subject: patientRef,
        inResponseTo: [consultRef],
        sent: m.at,
        sender: who(m.senderAccountId),
        payload,
      })),
    );
  }

  add((id) => ({
    resourceType: 'Provenance' as const,
    id,
    target: exported,
    recorded: input.exportedAt.toISOString(),
    activity: { text: 'Export of a closed Consilium case to the health record' },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] },
        who: who(input.exporter.accountId),
      },
    ],
  }));

  const bundle = {
    resourceType: 'Bundle' as const,
    id: newId(),
    identifier: { system: SYSTEM.case, value: summary.id },
    type: 'collection' as const,
    timestamp: input.exportedAt.toISOString(),
    entry: entries,
  };
  const checked = validateCaseBundle(bundle);
  if (!checked.ok) throw new Error(`the FHIR bundle is not valid: ${checked.problems.join('; ')}`);
  return { bundle: checked.bundle, skipped };
}
