import { createHash } from 'node:crypto';
import { NO_LABEL } from './boot-sector.js';
import { FIRST_FAT_YEAR, LAST_FAT_YEAR, isFatRepresentable } from './fat-time.js';
import { SECTOR_SIZE } from './volume-layout.js';
import { MAX_VOLUME_SECTORS } from './volume-size.js';

export interface VfatOptions {
  /** Volume label, written as given (Nova's is "config-2"). */
  label: string;
  /** Every entry's creation, modification and access time; also seeds the volume serial number. */
  recordedAt: Date;
  /** Bytes, default 64 MiB (Nova's CONFIGDRIVESIZE_BYTES); rounded up to whole MiB, grown if the content needs it. */
  minimumSize?: number;
}

export const DEFAULT_MINIMUM_SIZE = 64 * 1024 * 1024;

function describe(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  return JSON.stringify(value) ?? String(value);
}

export class InvalidVfatOptionError extends Error {
  override readonly name = 'InvalidVfatOptionError';
  constructor(readonly field: keyof VfatOptions, readonly value: unknown, reason: string) {
    super(`invalid VFAT option ${field} = ${describe(value)}: ${reason}`);
  }
}

export interface CheckedVfatOptions {
  /** 11 characters, space padded, as the boot sector and the label entry hold it. */
  label: string;
  recordedAt: Date;
  minimumSectors: number;
  volumeSerial: number;
}

// mkfs.fat's rules: printable ASCII (we leave out code pages), none of the characters short names refuse,
// no leading space. Lowercase is kept, as mkfs.fat keeps it: blkid then reports LABEL=config-2, like Nova's drive.
const LABEL_FORBIDDEN = new Set('*?.,;:/\\|+=<>[]"');

function checkLabel(label: unknown): string {
  if (typeof label !== 'string' || label.length === 0 || label.length > 11) {
    throw new InvalidVfatOptionError('label', label, 'must be 1 to 11 characters');
  }
  for (let i = 0; i < label.length; i++) {
    const code = label.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || LABEL_FORBIDDEN.has(label[i]!)) {
      throw new InvalidVfatOptionError('label', label, `character ${JSON.stringify(label[i])} at index ${i} is not allowed in a FAT label`);
    }
  }
  if (label.startsWith(' ')) throw new InvalidVfatOptionError('label', label, 'must not start with a space');
  const padded = label.padEnd(11, ' ');
  if (padded === NO_LABEL) throw new InvalidVfatOptionError('label', label, 'means "no label" to FAT readers');
  return padded;
}

export function checkVfatOptions(options: VfatOptions): CheckedVfatOptions {
  const label = checkLabel(options.label);
  const { recordedAt } = options;
  if (!(recordedAt instanceof Date) || Number.isNaN(recordedAt.getTime()) || !isFatRepresentable(recordedAt)) {
    throw new InvalidVfatOptionError('recordedAt', recordedAt, `must be a valid Date in the years ${FIRST_FAT_YEAR}..${LAST_FAT_YEAR} (UTC)`);
  }
  const minimumSize = options.minimumSize ?? DEFAULT_MINIMUM_SIZE;
  if (!Number.isSafeInteger(minimumSize) || minimumSize <= 0 || minimumSize > MAX_VOLUME_SECTORS * SECTOR_SIZE) {
    throw new InvalidVfatOptionError('minimumSize', minimumSize, `must be an integer from 1 to ${MAX_VOLUME_SECTORS * SECTOR_SIZE} (FAT16's limit)`);
  }
  // Derived from the options, not a clock, so one request always gives the same image.
  const digest = createHash('sha256').update(`${label}\0${recordedAt.toISOString()}\0${minimumSize}`).digest();
  return { label, recordedAt, minimumSectors: Math.ceil(minimumSize / SECTOR_SIZE), volumeSerial: digest.readUInt32LE(0) };
}
