import { describe, expect, it } from 'vitest';
import { findImageMetadata } from './image-metadata';
import { FIXTURE_CAMERA, FIXTURE_LATITUDE, latitudeOf, readExif, withGpsExif } from './exif-fixture';

/** An 8x4 JPEG as Chromium's canvas encodes it (JFIF + ICC profile, no EXIF): synthetic pixels only. */
const BASE_JPEG = Uint8Array.from(
  atob(
    '/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAEAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAXEAEAAwAAAAAAAAAAAAAAAAAABEKB/8QAFQEBAQAAAAAAAAAAAAAAAAAAAwX/xAAbEQABBAMAAAAAAAAAAAAAAAAAAgSBsQEzNP/aAAwDAQACEQMRAD8AkSq6AsMOdM3kV7vVFH//2Q==',
  ),
  (c) => c.charCodeAt(0),
);

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const u32be = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** A PNG chunk (the CRC is not checked by the scanner, so zeros do). */
const pngChunk = (type: string, body: Uint8Array) => concat(u32be(body.length), bytes(type), body, new Uint8Array(4));
const PNG_SIGNATURE = bytes('\x89PNG\r\n\x1a\n');

describe('image metadata scanner', () => {
  it('finds EXIF and GPS in a JPEG that piexifjs wrote them into', () => {
    const tagged = withGpsExif(BASE_JPEG);
    // The fixture really has them, by an independent reader.
    const read = readExif(tagged);
    expect(read.camera).toBe(FIXTURE_CAMERA);
    expect(latitudeOf(read.gps)).toBeCloseTo(FIXTURE_LATITUDE, 3);
    expect(findImageMetadata(tagged)).toEqual(['exif', 'gps']);
  });

  it('finds nothing in a canvas-encoded JPEG (JFIF and an ICC colour profile only)', () => {
    expect(findImageMetadata(BASE_JPEG)).toEqual([]);
    expect(readExif(BASE_JPEG).gps).toEqual({});
  });

  it('finds EXIF without GPS, XMP and comments in JPEG', () => {
    const app1 = (body: Uint8Array) => concat(new Uint8Array([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 255]), body);
    const com = concat(new Uint8Array([0xff, 0xfe, 0, 7]), bytes('hello'));
    const xmp = app1(bytes('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>'));
    // A TIFF with one IFD0 entry (Make), no GPS pointer.
    const tiff = concat(bytes('II*\0'), new Uint8Array([8, 0, 0, 0, 1, 0, 0x0f, 0x01, 2, 0, 2, 0, 0, 0, 0x41, 0, 0, 0, 0, 0, 0, 0]));
    const exif = app1(concat(bytes('Exif\0\0'), tiff));
    const file = concat(BASE_JPEG.subarray(0, 2), exif, xmp, com, BASE_JPEG.subarray(2));
    expect(findImageMetadata(file)).toEqual(['exif', 'xmp', 'comment']);
  });

  it('finds eXIf and text chunks in PNG, and EXIF/XMP chunks in WebP', () => {
    const ihdr = pngChunk('IHDR', new Uint8Array(13));
    const clean = concat(PNG_SIGNATURE, ihdr, pngChunk('IDAT', new Uint8Array(10)), pngChunk('IEND', new Uint8Array(0)));
    expect(findImageMetadata(clean)).toEqual([]);
    const gpsTiff = readExifBlock(withGpsExif(BASE_JPEG));
    const tagged = concat(PNG_SIGNATURE, ihdr, pngChunk('eXIf', gpsTiff), pngChunk('tEXt', bytes('Comment\0ward 4')), pngChunk('IEND', new Uint8Array(0)));
    expect(findImageMetadata(tagged)).toEqual(['exif', 'gps', 'text']);

    const riff = (chunks: Uint8Array) => concat(bytes('RIFF'), new Uint8Array(4), bytes('WEBP'), chunks);
    const webpChunk = (type: string, body: Uint8Array) => concat(bytes(type), new Uint8Array([body.length & 255, (body.length >> 8) & 255, 0, 0]), body, body.length % 2 ? new Uint8Array(1) : new Uint8Array(0));
    expect(findImageMetadata(riff(webpChunk('VP8 ', new Uint8Array(11))))).toEqual([]);
    expect(findImageMetadata(riff(concat(webpChunk('VP8 ', new Uint8Array(11)), webpChunk('EXIF', gpsTiff), webpChunk('XMP ', bytes('<x/>')))))).toEqual(['exif', 'gps', 'xmp']);
  });
});

/** The TIFF body of the first EXIF APP1 segment of a JPEG. */
function readExifBlock(jpeg: Uint8Array): Uint8Array {
  for (let at = 2; at + 4 < jpeg.length; ) {
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    if (jpeg[at + 1] === 0xe1) return jpeg.subarray(at + 10, at + 2 + length);
    at += 2 + length;
  }
  throw new Error('no EXIF segment');
}
