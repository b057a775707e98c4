/** Checks IsoOptions before any work, so a bad option fails with its name and value rather than a broken image. */
import type { IsoOptions } from './index.js';

/** 16 characters fit both the 32-byte primary field and the Joliet field (16 UCS-2 characters). */
const VOLUME_ID = /^[A-Za-z0-9_.-]{1,16}$/;
/** Printable ASCII; 64 characters fit the Joliet field (128 bytes of UCS-2) unchanged. */
const PUBLISHER = /^[\x20-\x7e]{0,64}$/;
/** Directory record dates store the year as an offset from 1900 in one byte. */
const FIRST_YEAR = 1900;
const LAST_YEAR = 1900 + 255;

export class InvalidIsoOptionError extends Error {
  override readonly name = 'InvalidIsoOptionError';
  constructor(
    readonly option: keyof IsoOptions,
    readonly value: unknown,
    reason: string,
  ) {
    super(`invalid ISO option ${option} ${describe(value)}: ${reason}`);
  }
}

function describe(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  return JSON.stringify(value) ?? String(value);
}

export function validateIsoOptions(options: IsoOptions): void {
  const { volumeId, publisher, recordedAt } = options;
  if (typeof volumeId !== 'string' || !VOLUME_ID.test(volumeId)) {
    throw new InvalidIsoOptionError('volumeId', volumeId, 'must be 1 to 16 characters of A-Z a-z 0-9 _ . -');
  }
  if (typeof publisher !== 'string' || !PUBLISHER.test(publisher)) {
    throw new InvalidIsoOptionError('publisher', publisher, 'must be at most 64 printable ASCII characters');
  }
  if (publisher.startsWith('_')) {
    // ECMA-119 8.4.20: a leading "_" would make the rest the name of a file holding the publisher.
    throw new InvalidIsoOptionError('publisher', publisher, 'must not start with "_"');
  }
  if (!(recordedAt instanceof Date) || Number.isNaN(recordedAt.getTime())) {
    throw new InvalidIsoOptionError('recordedAt', recordedAt, 'must be a valid Date');
  }
  const year = recordedAt.getUTCFullYear();
  if (year < FIRST_YEAR || year > LAST_YEAR) {
    throw new InvalidIsoOptionError('recordedAt', recordedAt, `year must be ${FIRST_YEAR} to ${LAST_YEAR} (UTC)`);
  }
}
