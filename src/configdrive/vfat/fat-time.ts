/**
 * FAT timestamps carry no time zone. We record them in UTC: a pure writer must not depend on the host's
 * TZ, and Linux's vfat driver (the usual guest reader) interprets them with the kernel's sys_tz, which is
 * UTC unless the guest says otherwise. Dates count from 1980, in 7 bits: 1980..2107.
 */
export const FIRST_FAT_YEAR = 1980;
export const LAST_FAT_YEAR = 2107;

export interface FatTimestamp {
  /** (year - 1980) << 9 | month << 5 | day */
  date: number;
  /** hours << 11 | minutes << 5 | seconds / 2 */
  time: number;
  /** 10 ms units, 0..199: the creation time's odd second and fraction, which `time` cannot hold. */
  centiseconds: number;
}

export function isFatRepresentable(at: Date): boolean {
  const year = at.getUTCFullYear();
  return year >= FIRST_FAT_YEAR && year <= LAST_FAT_YEAR;
}

export function toFatTimestamp(at: Date): FatTimestamp {
  const seconds = at.getUTCSeconds();
  return {
    date: ((at.getUTCFullYear() - FIRST_FAT_YEAR) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | (seconds >> 1),
    centiseconds: (seconds & 1) * 100 + Math.floor(at.getUTCMilliseconds() / 10),
  };
}
