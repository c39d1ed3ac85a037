/**
 * Finds metadata in an image file that could identify a patient, a place or a device: EXIF
 * (with or without GPS), XMP, IPTC, comments, text chunks. Used to check, after re-encoding, that
 * what leaves the device carries none. Formats: JPEG (ITU-T T.81 markers; EXIF in APP1 per CIPA
 * DC-008), PNG (RFC 2083 chunks, eXIf from PNG 1.2 extensions), WebP (RIFF chunks EXIF, XMP).
 */
export type ImageMetadataKind = 'exif' | 'gps' | 'xmp' | 'iptc' | 'comment' | 'text' | 'app-segment';

const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));

/** Whether a TIFF structure (the body of an EXIF block) has a GPS IFD pointer (tag 0x8825) in IFD0. */
function tiffHasGps(tiff: Uint8Array): boolean {
  if (tiff.length < 8) return false;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return false;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return false;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) break;
    if (view.getUint16(entry, little) === 0x8825) return true;
  }
  return false;
}

function exifKinds(body: Uint8Array): ImageMetadataKind[] {
  return tiffHasGps(body) ? ['exif', 'gps'] : ['exif'];
}

function jpeg(bytes: Uint8Array): ImageMetadataKind[] {
  const found: ImageMetadataKind[] = [];
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) break;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image, or start of scan (entropy-coded data follows)
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const body = bytes.subarray(at + 4, at + 2 + length);
    if (marker === 0xe1) {
      if (ascii(body, 0, 6) === 'Exif\0\0') found.push(...exifKinds(body.subarray(6)));
      else if (ascii(body, 0, 28) === 'http://ns.adobe.com/xap/1.0/') found.push('xmp');
      else found.push('app-segment');
    } else if (marker === 0xed) found.push('iptc');
    else if (marker === 0xfe) found.push('comment');
    // APP0 (JFIF) and APP2 (ICC colour profile) describe how to show the pixels, nothing else.
    else if (marker >= 0xe3 && marker <= 0xef) found.push('app-segment');
    at += 2 + length;
  }
  return found;
}

function png(bytes: Uint8Array): ImageMetadataKind[] {
  const found: ImageMetadataKind[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const type = ascii(bytes, at + 4, 4);
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'eXIf') found.push(...exifKinds(body));
    else if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') found.push(ascii(body, 0, 17) === 'XML:com.adobe.xmp' ? 'xmp' : 'text');
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return found;
}

function webp(bytes: Uint8Array): ImageMetadataKind[] {
  const found: ImageMetadataKind[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  while (at + 8 <= bytes.length) {
    const type = ascii(bytes, at, 4);
    const length = view.getUint32(at + 4, true);
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'EXIF') found.push(...exifKinds(ascii(body, 0, 6) === 'Exif\0\0' ? body.subarray(6) : body));
    else if (type === 'XMP ') found.push('xmp');
    at += 8 + length + (length % 2);
  }
  return found;
}

/** The kinds of metadata found (empty: none). Unknown formats report nothing; callers only pass the formats above. */
export function findImageMetadata(bytes: Uint8Array): ImageMetadataKind[] {
  let found: ImageMetadataKind[] = [];
  if (bytes[0] === 0xff && bytes[1] === 0xd8) found = jpeg(bytes);
  else if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') found = png(bytes);
  else if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') found = webp(bytes);
  return [...new Set(found)];
}
