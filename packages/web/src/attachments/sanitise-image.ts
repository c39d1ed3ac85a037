import { findImageMetadata } from './image-metadata';

/** A rectangle in the pixels of the image as shown (after its EXIF orientation is applied). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ImageEdits {
  /** Keep only this part of the image. */
  crop: Rect | null;
  /** Parts to make unreadable (faces, name bands), in the same coordinates as `crop`. */
  blur: Rect[];
}

export interface SanitisedImage {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
}

/** The browser could not decode the image, so it cannot remove its metadata: it is not sent. */
export class UnreadableImageError extends Error {
  override readonly name = 'UnreadableImageError';
}

/** Longest side of what is sent: more pixels than a consult needs, fewer than a canvas may refuse. */
export const MAX_IMAGE_SIDE = 8192;

const clampRect = (r: Rect, width: number, height: number): Rect => {
  const x = Math.max(0, Math.min(width, Math.round(r.x)));
  const y = Math.max(0, Math.min(height, Math.round(r.y)));
  return { x, y, width: Math.max(0, Math.min(width - x, Math.round(r.width))), height: Math.max(0, Math.min(height - y, Math.round(r.height))) };
};

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function makeCanvas(width: number, height: number): { ctx: Canvas2D; encode: (type: string, quality?: number) => Promise<Blob> } {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new UnreadableImageError('this browser cannot draw images');
    return { ctx, encode: (type, quality) => canvas.convertToBlob({ type, quality }) };
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new UnreadableImageError('this browser cannot draw images');
  return {
    ctx,
    encode: (type, quality) => new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encoding failed'))), type, quality)),
  };
}

/**
 * Makes an area unreadable: averaged into coarse blocks (so fine detail such as a face or a
 * printed name cannot be recovered), then blurred where the browser supports canvas filters.
 */
function obscure(ctx: Canvas2D, area: Rect): void {
  if (area.width === 0 || area.height === 0) return;
  const block = Math.max(12, Math.round(Math.min(area.width, area.height) / 6));
  const cols = Math.max(1, Math.ceil(area.width / block));
  const rows = Math.max(1, Math.ceil(area.height / block));
  const small = makeCanvas(cols, rows).ctx;
  small.imageSmoothingEnabled = true;
  small.imageSmoothingQuality = 'high';
  small.drawImage(ctx.canvas, area.x, area.y, area.width, area.height, 0, 0, cols, rows);
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.x, area.y, area.width, area.height);
  ctx.clip();
  // First the opaque mosaic, so that nothing of the original shows through where the blur
  // below fades out at the edges of the area.
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small.canvas, 0, 0, cols, rows, area.x, area.y, area.width, area.height);
  if ('filter' in ctx) {
    ctx.imageSmoothingEnabled = true;
    ctx.filter = `blur(${Math.round(block / 2)}px)`;
    ctx.drawImage(small.canvas, 0, 0, cols, rows, area.x, area.y, area.width, area.height);
  }
  ctx.restore();
}

/**
 * Decodes an image and draws it again on a canvas: what comes out is only pixels (the canvas
 * encoders write no EXIF, GPS, XMP or IPTC), with the crop and blurred areas applied, in the
 * orientation it was shown in. The result is checked for metadata before it is returned.
 */
export async function sanitiseImage(file: Blob, edits: ImageEdits = { crop: null, blur: [] }): Promise<SanitisedImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new UnreadableImageError('this browser cannot read this image, so it cannot remove its location and camera data; convert it to JPEG or PNG and try again');
  }
  try {
    const source = clampRect(edits.crop ?? { x: 0, y: 0, width: bitmap.width, height: bitmap.height }, bitmap.width, bitmap.height);
    if (source.width === 0 || source.height === 0) throw new RangeError('the crop leaves nothing of the image');
    const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(source.width, source.height));
    const width = Math.max(1, Math.round(source.width * scale));
    const height = Math.max(1, Math.round(source.height * scale));
    const { ctx, encode } = makeCanvas(width, height);
    const png = file.type === 'image/png';
    if (!png) {
      // JPEG has no transparency: what was transparent becomes white, not black.
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, width, height);
    }
    ctx.drawImage(bitmap, source.x, source.y, source.width, source.height, 0, 0, width, height);
    for (const area of edits.blur) {
      const shifted = { x: (area.x - source.x) * scale, y: (area.y - source.y) * scale, width: area.width * scale, height: area.height * scale };
      obscure(ctx, clampRect(shifted, width, height));
    }
    const contentType = png ? 'image/png' : 'image/jpeg';
    const blob = await encode(contentType, png ? undefined : 0.9);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const left = findImageMetadata(bytes);
    if (left.length > 0) throw new Error(`the re-encoded image still carries metadata (${left.join(', ')}); it is not sent`);
    return { bytes, contentType, width, height };
  } finally {
    bitmap.close();
  }
}
