/** The part of piexifjs (MIT, hMatoba) the tests use to write and read EXIF in JPEG fixtures. */
declare module 'piexifjs' {
  type Rational = [number, number];
  type IfdValue = string | number | number[] | Rational | Rational[];
  export interface ExifDict {
    '0th'?: Record<number, IfdValue>;
    Exif?: Record<number, IfdValue>;
    GPS?: Record<number, IfdValue>;
    Interop?: Record<number, IfdValue>;
    '1st'?: Record<number, IfdValue>;
    thumbnail?: string | null;
  }
  const piexif: {
    dump(exif: ExifDict): string;
    insert(exif: string, jpeg: string): string;
    load(jpeg: string): Required<ExifDict>;
    remove(jpeg: string): string;
    ImageIFD: Record<string, number>;
    ExifIFD: Record<string, number>;
    GPSIFD: Record<string, number>;
  };
  export default piexif;
}
