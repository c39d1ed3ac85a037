import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { findImageMetadata } from '../packages/web/src/attachments/image-metadata.js';
import { FIXTURE_CAMERA, FIXTURE_LATITUDE, latitudeOf, readExif, withGpsExif } from '../packages/web/src/attachments/exif-fixture.js';
import { b64, baseJpeg, fromB64 } from './photo-fixture.js';
import { seedColleagues, signInFirstTime, watchConsole, WAIT, useE2e } from './support.js';

// The media vault in Chromium: images lose their EXIF/GPS metadata by being re-encoded through
// a canvas (proved on a JPEG that carries GPS tags, written by piexifjs), and one clinician sends
// such a photo to another, who sees it decrypted in the thread.

const e2e = useE2e();

const shot = (page: Page, name: string) => (process.env.E2E_SCREENSHOTS ? page.screenshot({ path: `/tmp/attachments-${name}.png`, fullPage: true }) : undefined);

describe('attachments in Chromium', () => {
  it('re-encoding strips EXIF and GPS, applies the EXIF orientation, and blurs the chosen area', async () => {
    const bundle = await build({
      entryPoints: [path.resolve('packages/web/src/attachments/sanitise-image.ts')],
      bundle: true,
      format: 'iife',
      globalName: 'Sanitiser',
      write: false,
      target: 'es2022',
    });
    const page = await e2e.browser.newPage();
    await page.setContent('<!doctype html><title>sanitiser</title>');
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });

    // Orientation 6: the camera was turned, the viewer rotates 90° clockwise.
    const tagged = withGpsExif(await baseJpeg(page), 6);
    expect(latitudeOf(readExif(tagged).gps)).toBeCloseTo(FIXTURE_LATITUDE, 3);
    expect(findImageMetadata(tagged)).toEqual(['exif', 'gps']);

    const run = (edits: unknown) =>
      page.evaluate(
        async ({ input, edits }) => {
          const bytes = Uint8Array.from(atob(input), (c) => c.charCodeAt(0));
          const { sanitiseImage } = (globalThis as unknown as { Sanitiser: typeof import('../packages/web/src/attachments/sanitise-image') }).Sanitiser;
          const out = await sanitiseImage(new Blob([bytes], { type: 'image/jpeg' }), edits as never);
          // Spread of the pixel values in the bottom half (the checkerboard, after rotation).
          const bitmap = await createImageBitmap(new Blob([out.bytes], { type: out.contentType }));
          const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
          const ctx = canvas.getContext('2d')!;
          ctx.drawImage(bitmap, 0, 0);
          const px = ctx.getImageData(0, Math.floor(bitmap.height / 2) + 4, bitmap.width, Math.floor(bitmap.height / 2) - 8).data;
          let sum = 0;
          let sq = 0;
          for (let i = 0; i < px.length; i += 4) {
            sum += px[i]!;
            sq += px[i]! * px[i]!;
          }
          const n = px.length / 4;
          let s = '';
          for (const b of out.bytes) s += String.fromCharCode(b);
          return { bytes: btoa(s), contentType: out.contentType, width: out.width, height: out.height, spread: Math.sqrt(sq / n - (sum / n) ** 2) };
        },
        { input: b64(tagged), edits },
      );

    const plain = await run({ crop: null, blur: [] });
    const out = fromB64(plain.bytes);
    expect(plain.contentType).toBe('image/jpeg');
    expect([plain.width, plain.height]).toEqual([32, 64]);
    expect(findImageMetadata(out)).toEqual([]);
    const read = readExif(out);
    expect(read.gps).toEqual({});
    expect(read.exif).toEqual({});
    expect(read.camera).toBeUndefined();
    expect(Buffer.from(out).includes(Buffer.from(FIXTURE_CAMERA))).toBe(false);
    expect(Buffer.from(out).includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(false);
    // The checkerboard is still sharp without a blur...
    expect(plain.spread).toBeGreaterThan(60);

    // ...and unreadable with one over it (coordinates of the image as shown, i.e. rotated).
    const blurred = await run({ crop: null, blur: [{ x: 0, y: 32, width: 32, height: 32 }] });
    expect(blurred.spread).toBeLessThan(plain.spread / 3);
    expect(findImageMetadata(fromB64(blurred.bytes))).toEqual([]);

    const cropped = await run({ crop: { x: 0, y: 0, width: 32, height: 20 }, blur: [] });
    expect([cropped.width, cropped.height]).toEqual([32, 20]);
    await page.close();
  });

  it('one clinician sends a photo with GPS tags; the other sees it decrypted in the thread, without the tags', async () => {
    await seedColleagues(e2e.server, 'E2E Vault Hospital', [
      { email: 'alice@e2e-vault.test', displayName: 'Dr Alice Vault', role: 'clinician' },
      { email: 'bob@e2e-vault.test', displayName: 'Dr Bob Vault', role: 'clinician' },
    ]);
    const a = await (await e2e.browser.newContext()).newPage();
    const b = await (await e2e.browser.newContext()).newPage();
    const problemsA = watchConsole(a);
    const problemsB = watchConsole(b);
    await signInFirstTime(a, e2e.server.origin, 'alice@e2e-vault.test');
    await signInFirstTime(b, e2e.server.origin, 'bob@e2e-vault.test');
    for (const page of [a, b]) await page.getByRole('button', { name: 'New conversation' }).and(page.locator(':enabled')).waitFor(WAIT);

    await a.getByRole('button', { name: 'New conversation' }).click();
    await a.getByLabel('Search colleagues').fill('Bob');
    await a.getByRole('checkbox', { name: /Dr Bob Vault/ }).check();
    await a.getByRole('button', { name: 'Start conversation' }).click();
    await a.getByRole('heading', { name: 'Dr Bob Vault' }).waitFor(WAIT);

    const photo = withGpsExif(await baseJpeg(a));
    await a.getByTestId('attach-input').setInputFiles({ name: 'wound-bed12.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(photo) });
    await a.getByTestId('image-editor').waitFor(WAIT);
    // A blurred area over the right half (drag on the preview).
    const editor = (await a.getByTestId('image-editor').boundingBox())!;
    await a.mouse.move(editor.x + editor.width * 0.55, editor.y + 2);
    await a.mouse.down();
    await a.mouse.move(editor.x + editor.width - 2, editor.y + editor.height - 2, { steps: 4 });
    await a.mouse.up();
    await a.getByRole('button', { name: 'Undo edits' }).waitFor(WAIT);
    await shot(a, 'editor');
    await a.getByLabel('Message', { exact: true }).fill('Wound on day 3, see photo');
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    await a.locator('.message-own', { hasText: 'Wound on day 3' }).locator('.message-status', { hasText: 'Sent' }).waitFor(WAIT);
    await a.locator('.message-own', { hasText: 'Wound on day 3' }).locator('[data-testid=attachment] img').waitFor(WAIT);

    // What the server stored is ciphertext in our format, not the JPEG.
    const rows = await e2e.server.deps.db.selectFrom('attachment_blob').selectAll().execute();
    expect(rows).toHaveLength(1);
    const stored = readFileSync(path.join(e2e.server.deps.config.dataDir, 'blobs', rows[0]!.blob_id.slice(0, 2), rows[0]!.blob_id));
    expect(stored.subarray(0, 4).toString('latin1')).toBe('CNSA');
    expect(stored.includes(Buffer.from(FIXTURE_CAMERA))).toBe(false);
    // Uploaded as pending, and confirmed by the message that carries its key (else swept after a day).
    const links = await e2e.server.deps.db.selectFrom('attachment_link').select(['blob_id', 'confirmed_at']).execute();
    expect(links).toEqual([{ blob_id: rows[0]!.blob_id, confirmed_at: expect.any(String) }]);
    const uploadedEvent = (await e2e.server.deps.db.selectFrom('audit_entry').select('leaf').execute())
      .map((r) => JSON.parse(r.leaf) as { type: string; detail?: { pending?: boolean } })
      .find((l) => l.type === 'attachment.uploaded');
    expect(uploadedEvent?.detail?.pending).toBe(true);

    await b.getByRole('link', { name: /Dr Alice Vault/ }).click();
    const received = b.locator('.message:not(.message-own)', { hasText: 'Wound on day 3' });
    await received.waitFor(WAIT);
    const img = received.locator('[data-testid=attachment] img');
    await img.waitFor(WAIT);
    const src = await img.getAttribute('src');
    expect(src).toMatch(/^blob:/);
    expect(await img.evaluate((el: HTMLImageElement) => [el.naturalWidth, el.naturalHeight])).toEqual([64, 32]);
    await shot(b, 'received');

    // Nothing is saved unless the user exports; the export is audited first. The exported bytes
    // are the photo as the receiving browser decrypted it: a JPEG without the GPS tags.
    const download = b.waitForEvent('download');
    await received.getByRole('button', { name: 'Export' }).click();
    const saved = await download;
    expect(saved.suggestedFilename()).toBe('wound-bed12.jpg');
    const shown = new Uint8Array(readFileSync((await saved.path())!));
    expect([shown[0], shown[1]]).toEqual([0xff, 0xd8]);
    expect(findImageMetadata(shown)).toEqual([]);
    expect(readExif(shown).gps).toEqual({});
    expect(Buffer.from(shown).includes(Buffer.from(FIXTURE_CAMERA))).toBe(false);
    // The area blurred in the editor (the checkerboard) arrived unreadable; the rest is as it was.
    const spread = await b.evaluate(async (input) => {
      const bitmap = await createImageBitmap(new Blob([Uint8Array.from(atob(input), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }));
      const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const std = (x: number, w: number) => {
        const px = ctx.getImageData(x, 4, w, bitmap.height - 8).data;
        let sum = 0;
        let sq = 0;
        for (let i = 0; i < px.length; i += 4) {
          sum += px[i]!;
          sq += px[i]! * px[i]!;
        }
        const n = px.length / 4;
        return Math.sqrt(sq / n - (sum / n) ** 2);
      };
      return { right: std(40, 20), untouchedChecker: std(33, 3) };
    }, b64(shown));
    expect(spread.right).toBeLessThan(spread.untouchedChecker / 4);
    const types = (await e2e.server.deps.db.selectFrom('audit_entry').select('leaf').execute()).map((r) => (JSON.parse(r.leaf) as { type: string }).type);
    expect(types).toEqual(expect.arrayContaining(['attachment.uploaded', 'attachment.downloaded', 'attachment.exported']));

    // Alice deletes the message for everyone: the recall names its photo, and the server deletes the
    // ciphertext file with it; Bob's copy goes too.
    const blobFile = path.join(e2e.server.deps.config.dataDir, 'blobs', rows[0]!.blob_id.slice(0, 2), rows[0]!.blob_id);
    const sent = a.locator('.message-own', { hasText: 'Wound on day 3' });
    await sent.getByRole('button', { name: 'Delete' }).click();
    await a.getByRole('button', { name: 'Delete for everyone' }).click();
    await expect.poll(() => existsSync(blobFile), WAIT).toBe(false);
    expect(await e2e.server.deps.db.selectFrom('attachment_blob').selectAll().execute()).toEqual([]);
    await b.getByText('This message was deleted.').waitFor(WAIT);
    expect(await b.locator('[data-testid=attachment]').count()).toBe(0);

    expect(problemsA).toEqual([]);
    expect(problemsB).toEqual([]);
  });
});
