import { describe, expect, it } from 'vitest';
import { AttachmentDescriptor, attachmentCiphertextBytes, decodeMessageContent, encodeMessageContent, MESSAGE_CONTENT_TYPE, RecallMessageQuery, UploadAttachmentQuery } from './attachments.js';

const descriptor: AttachmentDescriptor = {
  blobId: 'a'.repeat(64),
  key: 'A'.repeat(43),
  size: 1234,
  contentType: 'image/jpeg',
  fileName: 'wound.jpg',
  sha256: 'b'.repeat(64),
  width: 640,
  height: 480,
};

describe('message content', () => {
  it('keeps text-only messages as bare UTF-8 text, readable by clients that predate attachments', () => {
    expect(encodeMessageContent({ text: 'BP 120/80' })).toBe('BP 120/80');
    expect(encodeMessageContent({ text: 'BP 120/80', attachments: [] })).toBe('BP 120/80');
    expect(decodeMessageContent('BP 120/80')).toEqual({ text: 'BP 120/80', attachments: [] });
  });

  it('round-trips a message with attachments as a v1 envelope', () => {
    const encoded = encodeMessageContent({ text: 'see photo', attachments: [descriptor] });
    expect(JSON.parse(encoded).$type).toBe(MESSAGE_CONTENT_TYPE);
    expect(decodeMessageContent(encoded)).toEqual({ text: 'see photo', attachments: [descriptor] });
  });

  it('reads anything that is not a valid envelope as text (old messages, JSON typed by a person, a bad descriptor)', () => {
    for (const text of ['{"a":1}', '{not json', `{"$type":"${MESSAGE_CONTENT_TYPE}","text":"x","attachments":[{"blobId":"zz"}]}`, `{"$type":"${MESSAGE_CONTENT_TYPE}","text":"x","extra":1}`]) {
      expect(decodeMessageContent(text)).toEqual({ text, attachments: [] });
    }
  });
});

describe('attachment schemas', () => {
  it('allows only listed content types and well-formed descriptors', () => {
    expect(UploadAttachmentQuery.safeParse({ conversationId: crypto.randomUUID(), contentType: 'application/pdf' }).success).toBe(true);
    for (const contentType of ['text/html', 'image/svg+xml', 'application/octet-stream', 'image/gif']) {
      expect(UploadAttachmentQuery.safeParse({ conversationId: crypto.randomUUID(), contentType }).success, contentType).toBe(false);
    }
    expect(AttachmentDescriptor.safeParse({ ...descriptor, key: 'short' }).success).toBe(false);
    expect(AttachmentDescriptor.safeParse({ ...descriptor, blobId: 'A'.repeat(64) }).success).toBe(false);
  });

  it('takes a recall’s attachments as up to 20 comma-separated blob ids, nothing else', () => {
    const id = (c: string) => c.repeat(64);
    expect(RecallMessageQuery.safeParse({}).success).toBe(true);
    expect(RecallMessageQuery.safeParse({ attachments: `${id('a')},${id('b')}` }).success).toBe(true);
    expect(RecallMessageQuery.safeParse({ attachments: Array.from({ length: 20 }, () => id('c')).join(',') }).success).toBe(true);
    for (const attachments of ['', id('A'), `${id('a')},`, `${id('a')};${id('b')}`, '../etc', Array.from({ length: 21 }, () => id('c')).join(',')]) {
      expect(RecallMessageQuery.safeParse({ attachments }).success, attachments.slice(0, 20)).toBe(false);
    }
    expect(RecallMessageQuery.safeParse({ attachments: id('a'), extra: '1' }).success).toBe(false);
  });

  it('computes the ciphertext size of the format', () => {
    expect(attachmentCiphertextBytes(0)).toBe(16 + 16);
    expect(attachmentCiphertextBytes(1)).toBe(16 + 1 + 16);
    expect(attachmentCiphertextBytes(65536)).toBe(16 + 65536 + 16);
    expect(attachmentCiphertextBytes(65537)).toBe(16 + 65537 + 32);
  });
});
