/**
 * Reads SUSP system use areas for readIso(): whether the root carries SP (Rock Ridge is present) and a
 * record's Rock Ridge name, following CE continuation areas. Bounded like Linux's isofs: at most
 * MAX_CONTINUATIONS areas per record, each inside one sector.
 */
import { SECTOR_SIZE } from './encoding.js';
import { MalformedIsoError } from './malformed-iso-error.js';

const MAX_CONTINUATIONS = 32;
const NM_CURRENT_OR_PARENT = 0x06;

/** LEN_SKP of the SP entry that must open the root's "." system use area, or undefined without one. */
export function suspSkip(image: Buffer, start: number, end: number): number | undefined {
  const isSp =
    end - start >= 7 &&
    image.toString('latin1', start, start + 2) === 'SP' &&
    image[start + 2]! >= 7 &&
    image[start + 4] === 0xbe &&
    image[start + 5] === 0xef;
  return isSp ? image[start + 6]! : undefined;
}

/** The NM name in the system use area image[start, end), undefined when the record has none. */
export function rockRidgeName(image: Buffer, start: number, end: number): string | undefined {
  const parts: Buffer[] = [];
  let found = false;
  for (let continuations = 0; ; continuations++) {
    let next: { start: number; end: number } | undefined;
    let at = start;
    while (at + 4 <= end) {
      const signature = image.toString('latin1', at, at + 2);
      const length = image[at + 2]!;
      if (length === 0) break; // zero padding up to the end of the area
      if (length < 4 || at + length > end) {
        throw new MalformedIsoError(at, `system use entry ${JSON.stringify(signature)} has length ${length}, beyond its area`);
      }
      if (signature === 'ST') break;
      if (signature === 'NM' && length >= 5 && (image[at + 4]! & NM_CURRENT_OR_PARENT) === 0) {
        found = true;
        parts.push(image.subarray(at + 5, at + length));
      } else if (signature === 'CE' && length >= 28) {
        const block = image.readUInt32LE(at + 4);
        const offset = image.readUInt32LE(at + 12);
        const size = image.readUInt32LE(at + 20);
        const areaStart = block * SECTOR_SIZE + offset;
        if (offset + size > SECTOR_SIZE || areaStart + size > image.length) {
          throw new MalformedIsoError(at, `CE continuation area (sector ${block}, offset ${offset}, ${size} bytes) is outside one sector of the image`);
        }
        next = { start: areaStart, end: areaStart + size };
      }
      at += length;
    }
    if (!next) break;
    if (continuations === MAX_CONTINUATIONS) {
      throw new MalformedIsoError(next.start, `more than ${MAX_CONTINUATIONS} chained CE continuation areas`);
    }
    ({ start, end } = next);
  }
  return found ? Buffer.concat(parts).toString('utf8') : undefined;
}
