import { describe, expect, it } from 'vitest';
import { MAX_ATTACHMENT_BYTES } from '@consilium/protocol';
import { AttachmentRefused, assertSize, contentTypeOf } from './file-types';

describe('what the composer accepts', () => {
  it('takes allowlisted types, by declared type or by extension when the browser gives none', () => {
    expect(contentTypeOf(new File(['x'], 'scan.pdf', { type: 'application/pdf' }))).toBe('application/pdf');
    expect(contentTypeOf(new File(['x'], 'IMG_0001.HEIC', { type: '' }))).toBe('image/heic');
    expect(contentTypeOf(new File(['x'], 'notes.docx', { type: '' }))).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
  });

  it('refuses other types, whatever the extension says when the type is declared', () => {
    expect(() => contentTypeOf(new File(['x'], 'tool.exe', { type: 'application/x-msdownload' }))).toThrow(AttachmentRefused);
    expect(() => contentTypeOf(new File(['<svg/>'], 'logo.svg', { type: 'image/svg+xml' }))).toThrow(AttachmentRefused);
    expect(() => contentTypeOf(new File(['x'], 'page.html', { type: '' }))).toThrow(AttachmentRefused);
  });

  it('enforces the size limit before encrypting', () => {
    expect(() => assertSize(MAX_ATTACHMENT_BYTES)).not.toThrow();
    expect(() => assertSize(MAX_ATTACHMENT_BYTES + 1)).toThrow(/at most 50 MiB/);
  });
});
