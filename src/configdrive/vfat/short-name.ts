/**
 * 8.3 names the way Windows and Linux's vfat driver make them: uppercase the long name, split at the last
 * dot, drop spaces and the other dots, replace what a short name cannot hold with '_', cut to 8.3, and when
 * anything was lost (or the name is taken) add the first free numeric tail ~1, ~2, ... We keep short names
 * ASCII (non-ASCII becomes '_') so they do not depend on a DOS code page; the long name carries the rest.
 */

/** 11 ASCII characters: the base padded to 8, the extension padded to 3, as stored in a directory entry. */
export type ShortName = string;

export interface AssignedShortName {
  shortName: ShortName;
  /** The long name is this short name exactly (uppercase 8.3), so no LFN entries are needed. */
  exact: boolean;
}

const KEPT_PUNCTUATION = new Set("!#$%&'()-@^_`{}~");
// DOS opens these as devices whatever the extension; a tail keeps the file reachable on Windows guests.
const DEVICE_NAMES = /^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])$/;

interface Basis {
  base: string;
  extension: string;
  lossy: boolean;
}

function isSkipped(character: string): boolean {
  return character === '.' || character === ' ';
}

function toShortCharacters(part: string, limit: number): { text: string; lossy: boolean } {
  let text = '';
  let lossy = false;
  for (const character of part) {
    if (isSkipped(character)) {
      lossy = true;
      continue;
    }
    const upper = character.toUpperCase();
    let mapped: string;
    if (/^[A-Z0-9]$/.test(upper) || KEPT_PUNCTUATION.has(character)) {
      mapped = upper;
    } else {
      mapped = '_';
      lossy = true;
    }
    if (text.length === limit) return { text, lossy: true };
    text += mapped;
  }
  return { text, lossy };
}

function basisOf(longName: string): Basis {
  const lastDot = longName.lastIndexOf('.');
  // Leading dots/spaces do not start an extension: ".json" has base JSON, no extension (as in Linux).
  const hasExtension = lastDot > 0 && !/^[. ]*$/.test(longName.slice(0, lastDot));
  const base = toShortCharacters(hasExtension ? longName.slice(0, lastDot) : longName, 8);
  const extension = hasExtension ? toShortCharacters(longName.slice(lastDot + 1), 3) : { text: '', lossy: false };
  return { base: base.text, extension: extension.text, lossy: base.lossy || extension.lossy };
}

function compose(base: string, extension: string): ShortName {
  return base.padEnd(8, ' ') + extension.padEnd(3, ' ');
}

/** Short names already given out in one directory. */
export class ShortNameTable {
  private readonly taken = new Set<ShortName>();

  /** Marks a name as used without generating it (the root's volume label shares its namespace). */
  reserve(shortName: ShortName): void {
    this.taken.add(shortName);
  }

  /** `longName` must already have passed checkLongName. */
  assign(longName: string): AssignedShortName {
    const { base, extension, lossy } = basisOf(longName);
    const plain = compose(base, extension);
    if (!lossy && !DEVICE_NAMES.test(base) && !this.taken.has(plain)) {
      this.taken.add(plain);
      return { shortName: plain, exact: longName === (extension ? `${base}.${extension}` : base) };
    }
    // Directories hold at most 65536 entries, so a free tail always exists below ~999999.
    for (let n = 1; ; n++) {
      const tail = `~${n}`;
      const candidate = compose(base.slice(0, 8 - tail.length) + tail, extension);
      if (!this.taken.has(candidate)) {
        this.taken.add(candidate);
        return { shortName: candidate, exact: false };
      }
    }
  }
}
