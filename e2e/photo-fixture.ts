import type { Page } from 'playwright-core';

// A test photo made by the browser itself (no image file in the repository): the e2e tests of
// attachments and cases add EXIF and GPS tags to it (packages/web/src/attachments/exif-fixture.ts).

export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
export const fromB64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/** A 64x32 JPEG made by the browser: left half flat grey, right half a fine black-and-white checkerboard. */
export async function baseJpeg(page: Page): Promise<Uint8Array> {
  const data = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(64, 32);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#888';
    ctx.fillRect(0, 0, 64, 32);
    for (let y = 0; y < 32; y += 2) for (let x = 32; x < 64; x += 2) {
      ctx.fillStyle = (x + y) % 4 === 0 ? '#000' : '#fff';
      ctx.fillRect(x, y, 2, 2);
    }
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 })).arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  });
  return fromB64(data);
}
