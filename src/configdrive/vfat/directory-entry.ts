import type { FatTimestamp } from './fat-time.js';
import type { ShortName } from './short-name.js';

/** Directory entries: 32-byte short (8.3) entries, preceded by VFAT long-name (LFN) entries when needed. */
export const ENTRY_SIZE = 32;
const CHARACTERS_PER_LFN_ENTRY = 13;

export const ATTRIBUTES = {
  volumeLabel: 0x08,
  directory: 0x10,
  archive: 0x20,
  /** read-only | hidden | system | volume label: no DOS-era reader mistakes it for a file. */
  longName: 0x0f,
} as const;

/** Marks the first entry of a deleted name, and 0x00 marks the end of a directory. */
export const DELETED_MARK = 0xe5;
export const END_MARK = 0x00;
const LAST_LFN_FLAG = 0x40;
// Where the 13 UCS-2 characters of an LFN entry sit: 5 + 6 + 2, around the attribute/checksum/cluster fields.
const LFN_CHARACTER_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
// NT's reserved byte: the base / extension of an 8.3-only name is shown in lowercase.
const LOWERCASE_BASE = 0x08;
const LOWERCASE_EXTENSION = 0x10;

export interface ShortEntry {
  shortName: ShortName;
  attributes: number;
  /** 0 for an empty file, the volume label and a ".." that points at the root. */
  firstCluster: number;
  size: number;
}

export function longNameEntryCount(longName: string): number {
  return Math.ceil(longName.length / CHARACTERS_PER_LFN_ENTRY);
}

/** The LFN entries' link to their short entry, so a reader can tell stale LFN entries from live ones. */
export function shortNameChecksum(shortName: ShortName): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + shortName.charCodeAt(i)) & 0xff;
  return sum;
}

function setUint16(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value & 0xff;
  target[offset + 1] = value >>> 8;
}

function getUint16(source: Uint8Array, offset: number): number {
  return source[offset]! | (source[offset + 1]! << 8);
}

export function writeShortEntry(target: Uint8Array, offset: number, entry: ShortEntry, stamp: FatTimestamp): void {
  for (let i = 0; i < 11; i++) target[offset + i] = entry.shortName.charCodeAt(i);
  target[offset + 11] = entry.attributes;
  target[offset + 13] = stamp.centiseconds;
  setUint16(target, offset + 14, stamp.time); // created
  setUint16(target, offset + 16, stamp.date);
  setUint16(target, offset + 18, stamp.date); // last accessed (a date only)
  setUint16(target, offset + 22, stamp.time); // last written
  setUint16(target, offset + 24, stamp.date);
  setUint16(target, offset + 26, entry.firstCluster & 0xffff);
  new DataView(target.buffer, target.byteOffset).setUint32(offset + 28, entry.size, true);
}

/**
 * Writes the LFN entries for `longName` (last part first, as they precede the short entry on disk) and
 * returns the offset just after them. The name ends with a NUL when it does not fill its last entry, and
 * the rest is padded with 0xFFFF.
 */
export function writeLongNameEntries(target: Uint8Array, offset: number, longName: string, checksum: number): number {
  const count = longNameEntryCount(longName);
  for (let order = count; order >= 1; order--, offset += ENTRY_SIZE) {
    target[offset] = order | (order === count ? LAST_LFN_FLAG : 0);
    target[offset + 11] = ATTRIBUTES.longName;
    target[offset + 13] = checksum;
    LFN_CHARACTER_OFFSETS.forEach((at, i) => {
      const index = (order - 1) * CHARACTERS_PER_LFN_ENTRY + i;
      setUint16(target, offset + at, index < longName.length ? longName.charCodeAt(index) : index === longName.length ? 0 : 0xffff);
    });
  }
  return offset;
}

export interface DecodedShortEntry extends ShortEntry {
  /** The name as a reader shows it: "BASE.EXT", lowercased where NT's case flags say so. */
  displayName: string;
}

export function readShortEntry(source: Uint8Array, offset: number): DecodedShortEntry {
  // 0x05 stands for a real 0xE5 first byte (0xE5 itself means "deleted"); latin1 keeps every byte distinct.
  const raw = Array.from(source.subarray(offset, offset + 11), (byte, i) => (i === 0 && byte === 0x05 ? 0xe5 : byte));
  const shortName = String.fromCharCode(...raw);
  const caseFlags = source[offset + 12]!;
  let base = shortName.slice(0, 8).trimEnd();
  let extension = shortName.slice(8).trimEnd();
  if (caseFlags & LOWERCASE_BASE) base = base.toLowerCase();
  if (caseFlags & LOWERCASE_EXTENSION) extension = extension.toLowerCase();
  return {
    shortName,
    displayName: extension ? `${base}.${extension}` : base,
    attributes: source[offset + 11]!,
    // FAT16 has no high cluster word (bytes 20-21 are FAT32's), so they stay 0 and are not read.
    firstCluster: getUint16(source, offset + 26),
    size: new DataView(source.buffer, source.byteOffset).getUint32(offset + 28, true),
  };
}

export interface LongNameFragment {
  order: number;
  last: boolean;
  checksum: number;
  /** Up to 13 UTF-16 units, cut at the NUL terminator. */
  text: string;
}

export function readLongNameFragment(source: Uint8Array, offset: number): LongNameFragment {
  let text = '';
  for (const at of LFN_CHARACTER_OFFSETS) {
    const unit = getUint16(source, offset + at);
    if (unit === 0) break;
    text += String.fromCharCode(unit);
  }
  return {
    order: source[offset]! & ~LAST_LFN_FLAG,
    last: (source[offset]! & LAST_LFN_FLAG) !== 0,
    checksum: source[offset + 13]!,
    text,
  };
}
