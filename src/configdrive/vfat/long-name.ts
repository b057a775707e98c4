/**
 * What a VFAT long name can hold. LFN entries store UCS-2 (Microsoft's FAT specification), at most 255
 * code units. Characters beyond the BMP would need UTF-16 surrogate pairs, which readers treat
 * differently (Windows and Linux with utf8=1 decode them, mtools shows '_', Linux with a single-byte
 * iocharset mangles them), so such names are refused rather than written ambiguously; Nova's config
 * drive paths are ASCII anyway.
 */
const MAX_LONG_NAME_LENGTH = 255;

export class InvalidVfatNameError extends Error {
  override readonly name = 'InvalidVfatNameError';
  constructor(readonly path: string, reason: string) {
    super(`config drive path ${JSON.stringify(path)} cannot be stored on VFAT: ${reason}`);
  }
}

// Windows refuses these in any name and Linux's vfat driver (vfat_bad_char) does too.
const FORBIDDEN = new Set(['"', '*', '/', ':', '<', '>', '?', '\\', '|']);

function describe(unit: number): string {
  return `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `path` is only for the error message; `name` is its last component. */
export function checkLongName(path: string, name: string): void {
  if (name.length > MAX_LONG_NAME_LENGTH) {
    throw new InvalidVfatNameError(path, `name is ${name.length} UTF-16 code units, VFAT long names hold at most ${MAX_LONG_NAME_LENGTH}`);
  }
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit < 0x20) throw new InvalidVfatNameError(path, `control character ${describe(unit)} at index ${i}`);
    if (FORBIDDEN.has(name[i]!)) throw new InvalidVfatNameError(path, `character ${JSON.stringify(name[i])} at index ${i}`);
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const codePoint = name.codePointAt(i)!;
      throw new InvalidVfatNameError(path, `character ${describe(codePoint)} at index ${i} is outside the BMP (LFN is UCS-2)`);
    }
  }
  // Windows and Linux strip trailing dots and spaces on create, so the name would not read back as written.
  if (/[. ]$/.test(name)) throw new InvalidVfatNameError(path, 'name ends with a dot or a space');
}

/** FAT lookups ignore case (per UTF-16 unit, as Windows' upcase table does), so two names with one key collide. */
export function caseFoldKey(name: string): string {
  let key = '';
  for (const unit of name) {
    const upper = unit.toUpperCase();
    key += upper.length === 1 ? upper : unit;
  }
  return key;
}
