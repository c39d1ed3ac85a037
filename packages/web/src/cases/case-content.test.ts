import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { describePatient, encodeCaseHeader, encodeCaseOutcome, parseCaseContent, parseCaseHeader, parseCaseOutcome } from './case-content';

const header = {
  patient: { initials: 'J.D.', ageBand: '60-69' as const, sex: 'M' as const, localIdentifier: 'MRN 0042' },
  sbar: { situation: 'Chest pain for 2 h', background: 'T2DM, smoker', assessment: 'ST elevation V2-V4', recommendation: 'Cath lab now?' },
};

describe('case content', () => {
  it('round-trips a case header through message text', () => {
    const text = encodeCaseHeader(header);
    expect(JSON.parse(text)).toMatchObject({ type: 'case.header', v: 1 });
    expect(parseCaseHeader(text)).toEqual({ type: 'case.header', v: 1, ...header });
    expect(parseCaseOutcome(text)).toBeNull();
  });

  it('keeps the local identifier optional and trims fields', () => {
    const { localIdentifier: _dropped, ...patient } = header.patient;
    const text = encodeCaseHeader({ patient: { ...patient, initials: '  A.B. ' }, sbar: { ...header.sbar, background: '' } });
    const parsed = parseCaseHeader(text)!;
    expect(parsed.patient).toEqual({ initials: 'A.B.', ageBand: '60-69', sex: 'M' });
    expect(parsed.sbar.background).toBe('');
  });

  it('refuses a header without situation or recommendation, or with unknown fields', () => {
    expect(() => encodeCaseHeader({ ...header, sbar: { ...header.sbar, situation: '  ' } })).toThrow(ZodError);
    expect(() => encodeCaseHeader({ ...header, sbar: { ...header.sbar, recommendation: '' } })).toThrow(ZodError);
    const withName = JSON.stringify({ type: 'case.header', v: 1, patient: { ...header.patient, name: 'John Doe' }, sbar: header.sbar });
    expect(parseCaseContent(withName)).toBeNull();
    const wrongBand = JSON.stringify({ type: 'case.header', v: 1, patient: { ...header.patient, ageBand: '65' }, sbar: header.sbar });
    expect(parseCaseContent(wrongBand)).toBeNull();
    const futureVersion = JSON.stringify({ type: 'case.header', v: 2, ...header });
    expect(parseCaseContent(futureVersion)).toBeNull();
  });

  it('round-trips an outcome, and reads one written without a version', () => {
    expect(parseCaseOutcome(encodeCaseOutcome('Stented LAD; back to ward'))).toEqual({ type: 'case.outcome', v: 1, summary: 'Stented LAD; back to ward' });
    expect(parseCaseOutcome(JSON.stringify({ type: 'case.outcome', summary: 'Discharged' }))).toEqual({ type: 'case.outcome', v: 1, summary: 'Discharged' });
    expect(() => encodeCaseOutcome(' ')).toThrow(ZodError);
  });

  it('returns null for ordinary text and other JSON', () => {
    for (const text of ['Can you see bed 12?', '{ not json "case.header"', '{"type":"case.other"}', '[1,2]', '{"a":1}', '', '{"type":"case.header"}']) {
      expect(parseCaseContent(text)).toBeNull();
    }
  });

  it('describes the patient without the local identifier', () => {
    expect(describePatient(header.patient)).toBe('J.D., 60-69, male');
  });
});
