/**
 * Rock Ridge (RRIP 1.10 "RRIP_1991A") on top of SUSP 1.10: the system use entries of primary-tree records,
 * as genisoimage -r writes them: SP + ER on the root's ".", then RR, PX (files 0444, directories 0555,
 * uid/gid 0), TF and NM. When a record's area would pass 255 bytes the NM and ER entries move to a
 * continuation area that a CE entry points to.
 */
import { MAX_RECORD_LENGTH, systemUseOffset } from './directory-record.js';
import { SECTOR_SIZE, writeBothEndian32 } from './encoding.js';

export const DIRECTORY_MODE = 0o040555;
export const FILE_MODE = 0o100444;

const SP_LENGTH = 7;
const RR_LENGTH = 5;
const PX_LENGTH = 36; // RRIP 1.10 PX has no serial number field
const TF_LENGTH = 5 + 3 * 7;
const CE_LENGTH = 28;
const NM_HEADER = 5;
/** An entry's length is one byte, so longer names are split over NM entries with the CONTINUE flag. */
const NM_CHUNK = 250;
const NM_CONTINUE = 0x01;
const RR_FLAGS = { PX: 0x01, NM: 0x08, TF: 0x80 } as const;
/** TF records modification, access and attribute change times (7-byte form). */
const TF_FLAGS = 0x0e;

function entryHeader(buf: Buffer, at: number, signature: string, length: number): void {
  buf.write(signature, at, 2, 'latin1');
  buf[at + 2] = length;
  buf[at + 3] = 1;
}

/** SUSP 5.5 ER, identifying the extension as genisoimage does. */
const ER_ENTRY: Buffer = (() => {
  const id = 'RRIP_1991A';
  const descriptor = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
  const source =
    'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';
  const entry = Buffer.alloc(8 + id.length + descriptor.length + source.length);
  entryHeader(entry, 0, 'ER', entry.length);
  entry[4] = id.length;
  entry[5] = descriptor.length;
  entry[6] = source.length;
  entry[7] = 1; // extension version
  entry.write(id + descriptor + source, 8, 'latin1');
  return entry;
})();

export interface RockRidgeRecord {
  /** NM: the real name in UTF-8; undefined for "." and "..". */
  name: Uint8Array | undefined;
  isDirectory: boolean;
  /** PX link count: 1 for a file, 2 + its subdirectories for a directory. */
  links: number;
  /** The root's "." record also carries SP and ER (SUSP 5.3). */
  isRootSelf: boolean;
}

export interface SystemUseSize {
  /** Bytes in the directory record. */
  inline: number;
  /** Bytes in the continuation area (0: none). */
  continuation: number;
}

function nameEntriesLength(name: Uint8Array | undefined): number {
  if (!name) return 0;
  return name.length + NM_HEADER * Math.max(1, Math.ceil(name.length / NM_CHUNK));
}

/** How the record's entries split between the record (whose identifier is `identifierLength` bytes) and a continuation area. */
export function systemUseSize(record: RockRidgeRecord, identifierLength: number): SystemUseSize {
  const fixed = (record.isRootSelf ? SP_LENGTH : 0) + RR_LENGTH + PX_LENGTH + TF_LENGTH;
  const movable = nameEntriesLength(record.name) + (record.isRootSelf ? ER_ENTRY.length : 0);
  const available = MAX_RECORD_LENGTH - systemUseOffset(identifierLength);
  if (fixed + movable <= available) return { inline: fixed + movable, continuation: 0 };
  return { inline: fixed + CE_LENGTH, continuation: movable };
}

/** A record's continuation area, as placed by the layout. */
export interface ContinuationArea {
  sector: number;
  offset: number;
  /** SystemUseSize.continuation */
  length: number;
}

function writeNameEntries(buf: Buffer, at: number, name: Uint8Array): number {
  let start = 0;
  do {
    const end = Math.min(start + NM_CHUNK, name.length);
    entryHeader(buf, at, 'NM', NM_HEADER + end - start);
    buf[at + 4] = end < name.length ? NM_CONTINUE : 0;
    buf.set(name.subarray(start, end), at + NM_HEADER);
    at += NM_HEADER + end - start;
    start = end;
  } while (start < name.length);
  return at;
}

function writeMovableEntries(buf: Buffer, at: number, record: RockRidgeRecord): void {
  if (record.name) at = writeNameEntries(buf, at, record.name);
  if (record.isRootSelf) ER_ENTRY.copy(buf, at);
}

/**
 * Writes the record's system use entries at `at` and, when systemUseSize() asked for one, its continuation
 * area (same buffer: the whole image). `date` is the 7-byte recording date.
 */
export function writeSystemUse(
  buf: Buffer,
  at: number,
  record: RockRidgeRecord,
  continuation: ContinuationArea | undefined,
  date: Uint8Array,
): void {
  if (record.isRootSelf) {
    entryHeader(buf, at, 'SP', SP_LENGTH);
    buf[at + 4] = 0xbe;
    buf[at + 5] = 0xef;
    buf[at + 6] = 0; // no bytes skipped before each area's entries
    at += SP_LENGTH;
  }

  entryHeader(buf, at, 'RR', RR_LENGTH);
  buf[at + 4] = RR_FLAGS.PX | RR_FLAGS.TF | (record.name ? RR_FLAGS.NM : 0);
  at += RR_LENGTH;

  entryHeader(buf, at, 'PX', PX_LENGTH);
  writeBothEndian32(buf, at + 4, record.isDirectory ? DIRECTORY_MODE : FILE_MODE);
  writeBothEndian32(buf, at + 12, record.links);
  writeBothEndian32(buf, at + 20, 0); // uid
  writeBothEndian32(buf, at + 28, 0); // gid
  at += PX_LENGTH;

  entryHeader(buf, at, 'TF', TF_LENGTH);
  buf[at + 4] = TF_FLAGS;
  for (let stamp = 0; stamp < 3; stamp++) buf.set(date, at + 5 + stamp * 7);
  at += TF_LENGTH;

  if (!continuation) {
    writeMovableEntries(buf, at, record);
    return;
  }
  entryHeader(buf, at, 'CE', CE_LENGTH);
  writeBothEndian32(buf, at + 4, continuation.sector);
  writeBothEndian32(buf, at + 12, continuation.offset);
  writeBothEndian32(buf, at + 20, continuation.length);
  writeMovableEntries(buf, continuation.sector * SECTOR_SIZE + continuation.offset, record);
}
