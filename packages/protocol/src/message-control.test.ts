import { describe, expect, it } from 'vitest';
import { applyMessageControl, decodeMessageControl, DELETE_CONTENT_TYPE, EDIT_CONTENT_TYPE, encodeMessageControl, TITLE_CONTENT_TYPE, type ControllableMessage } from './message-control.js';
import { decodeMessageContent, encodeMessageContent } from './attachments.js';

const ALICE = '7d3c1a52-0f6e-4a38-9b1e-2f1d5c0a9e11';
const BOB = '0b7e5f0c-5c1d-4e5e-8c0a-3e6f1b2d4c22';
const at = '2026-01-02T03:04:05.000Z';

const thread = (): ControllableMessage[] => [
  { seq: 3, senderAccountId: ALICE, text: 'K+ 5.9, repeat in 1h', attachments: [{ blob: 'x' }] },
  { seq: 4, senderAccountId: BOB, text: 'Seen' },
  { seq: null, senderAccountId: ALICE, text: 'still sending' },
];

describe('edit and delete envelopes', () => {
  it('round-trip, and are told apart from text and attachment messages', () => {
    const edit = encodeMessageControl({ $type: EDIT_CONTENT_TYPE, target: 3, text: 'K+ 5.2' });
    expect(decodeMessageControl(edit)).toEqual({ $type: EDIT_CONTENT_TYPE, target: 3, text: 'K+ 5.2' });
    expect(decodeMessageControl(encodeMessageControl({ $type: DELETE_CONTENT_TYPE, target: 4 }))).toEqual({ $type: DELETE_CONTENT_TYPE, target: 4 });
    expect(decodeMessageControl(encodeMessageControl({ $type: TITLE_CONTENT_TYPE, title: ' Ward 7 handover ' }))).toEqual({ $type: TITLE_CONTENT_TYPE, title: 'Ward 7 handover' });
    expect(decodeMessageControl(encodeMessageControl({ $type: TITLE_CONTENT_TYPE, title: null }))).toEqual({ $type: TITLE_CONTENT_TYPE, title: null });
    expect(decodeMessageControl('plain words')).toBeNull();
    expect(decodeMessageControl(encodeMessageContent({ text: 'hi', attachments: [] }))).toBeNull();
    // An edit envelope is never mistaken for a message with attachments either.
    expect(decodeMessageContent(edit).attachments).toEqual([]);
  });

  it('malformed envelopes are not controls (shown as the text they are)', () => {
    for (const bad of [
      '{"$type":"consilium.edit/v1","target":3}',
      '{"$type":"consilium.edit/v1","target":0,"text":"x"}',
      '{"$type":"consilium.edit/v1","target":3,"text":""}',
      '{"$type":"consilium.delete/v1","target":"3"}',
      '{"$type":"consilium.delete/v1","target":3,"by":"someone"}',
      '{"$type":"consilium.edit/v2","target":3,"text":"x"}',
      '{"$type":"consilium.edit/v1",',
      '{"$type":"consilium.title/v1","title":""}',
      `{"$type":"consilium.title/v1","title":"${'x'.repeat(101)}"}`,
    ]) {
      expect(decodeMessageControl(bad), bad).toBeNull();
    }
    expect(() => encodeMessageControl({ $type: EDIT_CONTENT_TYPE, target: 3, text: 'x'.repeat(10_001) })).toThrow();
  });
});

describe('applying them', () => {
  it('the author edits their message: new text, marked edited', () => {
    const out = applyMessageControl(thread(), { $type: EDIT_CONTENT_TYPE, target: 3, text: 'K+ 5.2 (haemolysed)' }, ALICE, 5, at);
    expect(out.applied).toBe(true);
    if (!out.applied) return;
    expect(out.messages[0]).toMatchObject({ seq: 3, text: 'K+ 5.2 (haemolysed)', editedAt: at });
    expect(out.messages[1]).toEqual(thread()[1]);
  });

  it('the author deletes their message: text and attachments gone', () => {
    const out = applyMessageControl(thread(), { $type: DELETE_CONTENT_TYPE, target: 3 }, ALICE, 5, at);
    expect(out.applied).toBe(true);
    if (!out.applied) return;
    expect(out.messages[0]).toEqual({ seq: 3, senderAccountId: ALICE, text: '', deleted: true, editedAt: undefined });
    expect('attachments' in out.messages[0]!).toBe(false);
  });

  it('someone else cannot edit or delete it (the MLS sender decides, not the envelope)', () => {
    expect(applyMessageControl(thread(), { $type: EDIT_CONTENT_TYPE, target: 3, text: 'forged' }, BOB, 5, at)).toEqual({ applied: false, reason: 'not-author' });
    expect(applyMessageControl(thread(), { $type: DELETE_CONTENT_TYPE, target: 3 }, BOB, 5, at)).toEqual({ applied: false, reason: 'not-author' });
  });

  it('unknown targets, deleted targets and controls that do not come after their target are refused', () => {
    expect(applyMessageControl(thread(), { $type: EDIT_CONTENT_TYPE, target: 99, text: 'x' }, ALICE, 100, at)).toEqual({ applied: false, reason: 'unknown-target' });
    const deleted = applyMessageControl(thread(), { $type: DELETE_CONTENT_TYPE, target: 3 }, ALICE, 5, at);
    if (!deleted.applied) throw new Error('delete refused');
    expect(applyMessageControl(deleted.messages, { $type: EDIT_CONTENT_TYPE, target: 3, text: 'back' }, ALICE, 6, at)).toEqual({ applied: false, reason: 'deleted' });
    expect(applyMessageControl(thread(), { $type: EDIT_CONTENT_TYPE, target: 4, text: 'x' }, BOB, 4, at)).toEqual({ applied: false, reason: 'not-after-target' });
    expect(applyMessageControl(thread(), { $type: EDIT_CONTENT_TYPE, target: 4, text: 'x' }, BOB, 2, at)).toEqual({ applied: false, reason: 'not-after-target' });
  });
});
