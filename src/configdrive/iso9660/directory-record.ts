/** ECMA-119 9.1: the directory record, shared by the primary tree, the Joliet tree and the volume descriptors. */
import { writeBothEndian16, writeBothEndian32 } from './encoding.js';

const HEADER_LENGTH = 33;
/** The length byte allows 255; records are kept even, as ECMA-119's padding rules intend. */
export const MAX_RECORD_LENGTH = 254;
const FLAG_DIRECTORY = 0x02;

/** The identifiers of a directory's own "." and ".." records (ECMA-119 6.8.2.2). */
export const SELF_IDENTIFIER: Buffer = Buffer.from([0x00]);
export const PARENT_IDENTIFIER: Buffer = Buffer.from([0x01]);

/** Where the system use area starts: the identifier is followed by a pad byte when its length is even. */
export function systemUseOffset(identifierLength: number): number {
  return HEADER_LENGTH + identifierLength + (identifierLength % 2 === 0 ? 1 : 0);
}

export function recordLength(identifierLength: number, systemUseLength: number): number {
  const length = systemUseOffset(identifierLength) + systemUseLength;
  return length + (length % 2);
}

export interface DirectoryRecord {
  /** From recordLength(). */
  length: number;
  extent: number;
  dataLength: number;
  isDirectory: boolean;
  identifier: Uint8Array;
  /** From recordDate(). */
  date: Uint8Array;
}

/** Writes the record's fixed part and identifier; the caller writes any system use area after it. */
export function writeDirectoryRecord(buf: Buffer, offset: number, record: DirectoryRecord): void {
  buf[offset] = record.length;
  buf[offset + 1] = 0; // no extended attribute record
  writeBothEndian32(buf, offset + 2, record.extent);
  writeBothEndian32(buf, offset + 10, record.dataLength);
  buf.set(record.date, offset + 18);
  buf[offset + 25] = record.isDirectory ? FLAG_DIRECTORY : 0;
  buf[offset + 26] = 0; // not interleaved
  buf[offset + 27] = 0;
  writeBothEndian16(buf, offset + 28, 1); // volume sequence number
  buf[offset + 32] = record.identifier.length;
  buf.set(record.identifier, offset + HEADER_LENGTH);
}
