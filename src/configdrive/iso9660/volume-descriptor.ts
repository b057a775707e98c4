/**
 * ECMA-119 8.4/8.5: the Primary Volume Descriptor, the Joliet Supplementary Volume Descriptor (same layout,
 * UCS-2BE text, escape sequence "%/E" = UCS-2 level 3) and the set terminator.
 */
import { recordLength, SELF_IDENTIFIER, writeDirectoryRecord } from './directory-record.js';
import {
  SECTOR_SIZE,
  UNSPECIFIED_VOLUME_DATE,
  writeAsciiField,
  writeBothEndian16,
  writeBothEndian32,
  writeUcs2Field,
} from './encoding.js';

export const SYSTEM_ID = 'LINUX';
export const APPLICATION_ID = 'NOVA-SPAWND';
const STANDARD_ID = 'CD001';
const JOLIET_ESCAPE = '%/E';

const TYPE = { primary: 1, joliet: 2, terminator: 255 } as const;

export interface VolumeDescriptor {
  kind: 'primary' | 'joliet';
  volumeId: string;
  publisher: string;
  /** Sectors in the volume. */
  volumeSpaceSize: number;
  pathTableSize: number;
  pathTableL: number;
  pathTableM: number;
  rootExtent: number;
  rootSize: number;
  /** From volumeDate(): creation, modification and effective date. */
  volumeDate: Uint8Array;
  /** From recordDate(): the root record's date. */
  recordDate: Uint8Array;
}

function writeHeader(buf: Buffer, offset: number, type: number): void {
  buf[offset] = type;
  buf.write(STANDARD_ID, offset + 1, 'latin1');
  buf[offset + 6] = 1; // descriptor version
}

export function writeVolumeDescriptor(buf: Buffer, sector: number, descriptor: VolumeDescriptor): void {
  const at = sector * SECTOR_SIZE;
  const text = descriptor.kind === 'primary' ? writeAsciiField : writeUcs2Field;
  writeHeader(buf, at, TYPE[descriptor.kind]);
  text(buf, at + 8, 32, SYSTEM_ID);
  text(buf, at + 40, 32, descriptor.volumeId);
  writeBothEndian32(buf, at + 80, descriptor.volumeSpaceSize);
  if (descriptor.kind === 'joliet') buf.write(JOLIET_ESCAPE, at + 88, 'latin1');
  writeBothEndian16(buf, at + 120, 1); // volume set size
  writeBothEndian16(buf, at + 124, 1); // volume sequence number
  writeBothEndian16(buf, at + 128, SECTOR_SIZE);
  writeBothEndian32(buf, at + 132, descriptor.pathTableSize);
  buf.writeUInt32LE(descriptor.pathTableL, at + 140);
  buf.writeUInt32BE(descriptor.pathTableM, at + 148);
  writeDirectoryRecord(buf, at + 156, {
    length: recordLength(1, 0),
    extent: descriptor.rootExtent,
    dataLength: descriptor.rootSize,
    isDirectory: true,
    identifier: SELF_IDENTIFIER,
    date: descriptor.recordDate,
  });
  text(buf, at + 190, 128, ''); // volume set
  text(buf, at + 318, 128, descriptor.publisher);
  text(buf, at + 446, 128, ''); // data preparer
  text(buf, at + 574, 128, APPLICATION_ID);
  text(buf, at + 702, 37, ''); // copyright file
  text(buf, at + 739, 37, ''); // abstract file
  text(buf, at + 776, 37, ''); // bibliographic file
  buf.set(descriptor.volumeDate, at + 813); // creation
  buf.set(descriptor.volumeDate, at + 830); // modification
  buf.set(UNSPECIFIED_VOLUME_DATE, at + 847); // expiration
  buf.set(descriptor.volumeDate, at + 864); // effective, as genisoimage sets it
  buf[at + 881] = 1; // file structure version
}

export function writeTerminator(buf: Buffer, sector: number): void {
  writeHeader(buf, sector * SECTOR_SIZE, TYPE.terminator);
}
