import piexif from 'piexifjs';

/** Test fixtures only (not part of the app bundle): a synthetic camera and a place (a field near Utrecht), never real data. */
export const FIXTURE_CAMERA = 'ConsiliumTestCam';
export const FIXTURE_LATITUDE = 52.0907;

// piexifjs works on "binary strings" (one character per byte).
const binary = (bytes: Uint8Array) => Array.from(bytes, (b) => String.fromCharCode(b)).join('');
const fromBinary = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The JPEG with EXIF added: camera make and model, capture time, an orientation, and GPS position and altitude. */
export function withGpsExif(jpeg: Uint8Array, orientation = 1): Uint8Array {
  const exif = piexif.dump({
    '0th': { [piexif.ImageIFD.Make!]: FIXTURE_CAMERA, [piexif.ImageIFD.Model!]: 'Model 7', [piexif.ImageIFD.Orientation!]: orientation },
    Exif: { [piexif.ExifIFD.DateTimeOriginal!]: '2026:11:23 08:15:00' },
    GPS: {
      [piexif.GPSIFD.GPSLatitudeRef!]: 'N',
      [piexif.GPSIFD.GPSLatitude!]: [
        [52, 1],
        [5, 1],
        [2652, 100],
      ],
      [piexif.GPSIFD.GPSLongitudeRef!]: 'E',
      [piexif.GPSIFD.GPSLongitude!]: [
        [5, 1],
        [7, 1],
        [3300, 100],
      ],
      [piexif.GPSIFD.GPSAltitude!]: [3, 1],
    },
  });
  return fromBinary(piexif.insert(exif, binary(jpeg)));
}

/** What piexifjs (an independent EXIF reader) finds in a JPEG. */
export function readExif(jpeg: Uint8Array) {
  const dict = piexif.load(binary(jpeg));
  return { gps: dict.GPS, camera: dict['0th'][piexif.ImageIFD.Make!], exif: dict.Exif };
}

export const latitudeOf = (gps: Record<number, unknown>) => {
  const dms = gps[piexif.GPSIFD.GPSLatitude!] as [number, number][] | undefined;
  return dms ? dms[0]![0] / dms[0]![1] + dms[1]![0] / dms[1]![1] / 60 + dms[2]![0] / dms[2]![1] / 3600 : undefined;
};
