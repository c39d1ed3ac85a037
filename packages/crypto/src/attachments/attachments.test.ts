import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attachmentCiphertextBytes, type AttachmentDescriptor } from '@consilium/protocol';
import { AttachmentError, decryptAttachment, decryptChunks, encryptAttachment, fromBase64Url, toBase64Url } from './index.js';

const meta = { fileName: 'wound.jpg', contentType: 'image/jpeg' as const };
const CHUNK = 64;

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** The file as the header and its sealed chunks (chunk i is [16 + i*(CHUNK+16), ...)). */
function split(file: Uint8Array, chunkBytes = CHUNK): { header: Uint8Array; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  for (let at = 16; at < file.length; at += chunkBytes + 16) chunks.push(file.subarray(at, Math.min(file.length, at + chunkBytes + 16)));
  return { header: file.subarray(0, 16), chunks };
}

async function rejectsWith(promise: Promise<unknown>, code: AttachmentError['code']) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(AttachmentError);
  expect((error as AttachmentError).code).toBe(code);
}

async function* trickle(bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('attachment encryption (AES-256-GCM STREAM)', () => {
  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17, 1000])('round-trips %i bytes, fed in odd-sized pieces', async (n) => {
    const plain = new Uint8Array(randomBytes(n));
    const { descriptor, ciphertext, ciphertextBytes } = await encryptAttachment(trickle(plain, 7), meta, { chunkBytes: CHUNK });
    const file = concat(ciphertext);
    expect(file.length).toBe(ciphertextBytes);
    expect(file.length).toBe(attachmentCiphertextBytes(n, CHUNK));
    expect(descriptor.size).toBe(n);
    expect(descriptor.sha256).toBe(createHash('sha256').update(plain).digest('hex'));
    expect(descriptor.blobId).toBe(createHash('sha256').update(file).digest('hex'));
    expect(fromBase64Url(descriptor.key)).toHaveLength(32);
    expect(await decryptAttachment(trickle(file, 5), descriptor)).toEqual(plain);
  });

  it('round-trips a 1 MiB file with the default 64 KiB chunks, from a Blob and a ReadableStream', async () => {
    const plain = new Uint8Array(randomBytes(1024 * 1024 + 123));
    const { descriptor, ciphertext } = await encryptAttachment(new Blob([plain]), { fileName: 'scan.pdf', contentType: 'application/pdf' });
    expect(concat(ciphertext).length).toBe(attachmentCiphertextBytes(plain.length));
    expect(await decryptAttachment(new Blob(ciphertext).stream(), descriptor)).toEqual(plain);
  });

  it('follows the documented format: an independent AES-GCM decryption with nonce = prefix || u32 index || last flag, AAD = header', async () => {
    const plain = new Uint8Array(randomBytes(2 * CHUNK + 5));
    const { descriptor, ciphertext } = await encryptAttachment(plain, meta, { chunkBytes: CHUNK });
    const file = concat(ciphertext);
    const { header, chunks } = split(file);
    expect(Buffer.from(header.subarray(0, 5)).toString('latin1')).toBe('CNSA\x01');
    expect(Buffer.from(header).readUInt32BE(5)).toBe(CHUNK);
    expect(chunks).toHaveLength(3);
    const out = chunks.map((chunk, i) => {
      const nonce = Buffer.alloc(12);
      Buffer.from(header.subarray(9, 16)).copy(nonce, 0);
      nonce.writeUInt32BE(i, 7);
      nonce[11] = i === chunks.length - 1 ? 1 : 0;
      const d = createDecipheriv('aes-256-gcm', fromBase64Url(descriptor.key), nonce);
      d.setAAD(header);
      d.setAuthTag(chunk.subarray(chunk.length - 16));
      return Buffer.concat([d.update(chunk.subarray(0, chunk.length - 16)), d.final()]);
    });
    expect(new Uint8Array(Buffer.concat(out))).toEqual(plain);
  });

  it('uses a fresh key and nonce prefix for every file', async () => {
    const plain = new Uint8Array(randomBytes(100));
    const a = await encryptAttachment(plain, meta);
    const b = await encryptAttachment(plain, meta);
    expect(a.descriptor.key).not.toBe(b.descriptor.key);
    expect(a.descriptor.blobId).not.toBe(b.descriptor.blobId);
    expect(a.ciphertext[0]!.subarray(9)).not.toEqual(b.ciphertext[0]!.subarray(9));
    expect(a.descriptor.sha256).toBe(b.descriptor.sha256);
  });

  describe('refuses tampering', () => {
    const plain = new Uint8Array(randomBytes(4 * CHUNK + 10));
    let descriptor: AttachmentDescriptor;
    let file: Uint8Array;
    const ready = encryptAttachment(plain, meta, { chunkBytes: CHUNK }).then((r) => {
      descriptor = r.descriptor;
      file = concat(r.ciphertext);
    });
    /** Decrypts `bytes` with the descriptor's key, ignoring the content address (so AES-GCM itself is what refuses). */
    const open = async (bytes: Uint8Array, d: Partial<AttachmentDescriptor> = {}) => {
      await ready;
      const blobId = createHash('sha256').update(bytes).digest('hex');
      return decryptAttachment(bytes, { ...descriptor, blobId, ...d });
    };

    it('a flipped bit anywhere: header, chunk body, tag', async () => {
      await ready;
      for (const at of [0, 4, 6, 10, 16, 16 + 30, 16 + CHUNK + 5, 16 + CHUNK + 16 - 1, file.length - 1]) {
        const bad = file.slice();
        bad[at]! ^= 0x01;
        await rejectsWith(open(bad), at < 5 ? 'MALFORMED' : 'AUTHENTICATION_FAILED');
      }
    });

    it('truncation: the last chunk dropped, cut inside a chunk, cut inside the header', async () => {
      await ready;
      const { header, chunks } = split(file);
      await rejectsWith(open(concat([header, ...chunks.slice(0, -1)])), 'AUTHENTICATION_FAILED');
      await rejectsWith(open(concat([header, ...chunks.slice(0, 2)])), 'AUTHENTICATION_FAILED');
      await rejectsWith(open(file.subarray(0, file.length - 5)), 'AUTHENTICATION_FAILED');
      await rejectsWith(open(file.subarray(0, 16 + 10)), 'TRUNCATED');
      await rejectsWith(open(file.subarray(0, 10)), 'TRUNCATED');
      await rejectsWith(open(header), 'TRUNCATED');
    });

    it('reordered, duplicated or appended chunks', async () => {
      await ready;
      const { header, chunks } = split(file);
      const [c0, c1, c2, c3, c4] = chunks as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      await rejectsWith(open(concat([header, c1, c0, c2, c3, c4])), 'AUTHENTICATION_FAILED');
      await rejectsWith(open(concat([header, c0, c1, c3, c2, c4])), 'AUTHENTICATION_FAILED');
      await rejectsWith(open(concat([header, c0, c0, c1, c2, c3, c4])), 'AUTHENTICATION_FAILED');
      await rejectsWith(open(concat([header, c0, c1, c2, c3, c4, c4])), 'AUTHENTICATION_FAILED');
      // The same chunks under another file's header (another nonce prefix).
      const other = await encryptAttachment(plain, meta, { chunkBytes: CHUNK });
      await rejectsWith(open(concat([other.ciphertext[0]!, c0, c1, c2, c3, c4])), 'AUTHENTICATION_FAILED');
    });

    it('the wrong key', async () => {
      await rejectsWith(open(file, { key: toBase64Url(randomBytes(32)) }), 'AUTHENTICATION_FAILED');
    });

    it('a blob that is not the one the descriptor names, or plaintext that does not match it', async () => {
      await ready;
      await rejectsWith(decryptAttachment(file, { ...descriptor, blobId: 'a'.repeat(64) }), 'DESCRIPTOR_MISMATCH');
      await rejectsWith(decryptAttachment(file, { ...descriptor, sha256: 'b'.repeat(64) }), 'DESCRIPTOR_MISMATCH');
      await rejectsWith(decryptAttachment(file, { ...descriptor, size: descriptor.size + 1 }), 'DESCRIPTOR_MISMATCH');
      await rejectsWith(decryptAttachment(file, { ...descriptor, size: descriptor.size - 1 }), 'DESCRIPTOR_MISMATCH');
      expect(await decryptAttachment(file, descriptor)).toEqual(plain);
    });

    it('a streaming reader gets only authenticated chunks before the failure', async () => {
      await ready;
      const { header, chunks } = split(file);
      const got: Uint8Array[] = [];
      const bad = concat([header, ...chunks.slice(0, -1)]);
      const blobId = createHash('sha256').update(bad).digest('hex');
      await rejectsWith(
        (async () => {
          for await (const c of decryptChunks(bad, { ...descriptor, blobId })) got.push(c);
        })(),
        'AUTHENTICATION_FAILED',
      );
      expect(concat(got)).toEqual(plain.subarray(0, 3 * CHUNK));
    });
  });

  it('enforces a size limit while encrypting', async () => {
    await rejectsWith(encryptAttachment(new Uint8Array(1000), meta, { chunkBytes: CHUNK, maxBytes: 999 }), 'TOO_LARGE');
    await expect(encryptAttachment(new Uint8Array(999), meta, { chunkBytes: CHUNK, maxBytes: 999 })).resolves.toBeTruthy();
  });
});
