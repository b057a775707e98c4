/**
 * ECMA-119's field encodings: both-endian numbers, the two date forms and space-padded text. Every other
 * module writes through these so that the byte conventions live in one place.
 */

export const SECTOR_SIZE = 2048;

/** Sectors needed to hold `bytes`. */
export function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / SECTOR_SIZE);
}

/** ECMA-119 7.2.3: a 16-bit number stored little-endian, then big-endian. */
export function writeBothEndian16(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt16LE(value, offset);
  buf.writeUInt16BE(value, offset + 2);
}

/** ECMA-119 7.3.3: a 32-bit number stored little-endian, then big-endian. */
export function writeBothEndian32(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value, offset);
  buf.writeUInt32BE(value, offset + 4);
}

/**
 * ECMA-119 9.1.5: the 7-byte date of directory records (and Rock Ridge TF), in UTC (offset 0). Made once per
 * image and copied into every record.
 */
export function recordDate(date: Date): Buffer {
  return Buffer.from([
    date.getUTCFullYear() - 1900,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    0,
  ]);
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** ECMA-119 8.4.26.1: the 17-byte volume descriptor date "YYYYMMDDHHMMSScc" + GMT offset, in UTC. */
export function volumeDate(date: Date): Buffer {
  const digits =
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) +
    pad(date.getUTCSeconds(), 2) +
    pad(Math.floor(date.getUTCMilliseconds() / 10), 2);
  const out = Buffer.alloc(17);
  out.write(digits, 0, 'latin1');
  return out;
}

/** ECMA-119 8.4.26.1: "not specified" is sixteen '0' digits and a zero offset. */
export const UNSPECIFIED_VOLUME_DATE: Buffer = Buffer.concat([Buffer.from('0'.repeat(16), 'latin1'), Buffer.alloc(1)]);

/** An a-/d-character field: ASCII text, space padded to `width` bytes (callers validate the length). */
export function writeAsciiField(buf: Buffer, offset: number, width: number, text: string): void {
  buf.fill(0x20, offset, offset + width);
  buf.write(text, offset, width, 'latin1');
}

/** UCS-2 big-endian bytes of `text` (UTF-16 code units, so characters beyond the BMP become surrogate pairs). */
export function ucs2be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/**
 * A Joliet descriptor field: UCS-2BE text padded with UCS-2 spaces (00 20); an odd width ends with one 00 byte,
 * so the 37-byte file identifier fields hold 18 characters.
 */
export function writeUcs2Field(buf: Buffer, offset: number, width: number, text: string): void {
  for (let at = offset; at + 1 < offset + width; at += 2) buf.writeUInt16BE(0x0020, at);
  if (width % 2 === 1) buf[offset + width - 1] = 0;
  ucs2be(text).copy(buf, offset, 0, Math.min(width - (width % 2), text.length * 2));
}
