/**
 * ECMA-119 9.4: the path table, one record per directory in path table order (level, then parent number, then
 * identifier), written twice: type L (little-endian numbers) and type M (big-endian).
 */

export interface PathTableEntry {
  /** SELF_IDENTIFIER (00) for the root. */
  identifier: Uint8Array;
  extent: number;
  /** 1-based number of the parent's entry; the root is its own parent (1). */
  parentNumber: number;
}

export type PathTableByteOrder = 'L' | 'M';

function entryLength(identifier: Uint8Array): number {
  return 8 + identifier.length + (identifier.length % 2);
}

export function pathTableSize(entries: readonly PathTableEntry[]): number {
  let size = 0;
  for (const entry of entries) size += entryLength(entry.identifier);
  return size;
}

export function writePathTable(
  buf: Buffer,
  offset: number,
  entries: readonly PathTableEntry[],
  byteOrder: PathTableByteOrder,
): void {
  for (const entry of entries) {
    buf[offset] = entry.identifier.length;
    buf[offset + 1] = 0; // no extended attribute record
    if (byteOrder === 'L') {
      buf.writeUInt32LE(entry.extent, offset + 2);
      buf.writeUInt16LE(entry.parentNumber, offset + 6);
    } else {
      buf.writeUInt32BE(entry.extent, offset + 2);
      buf.writeUInt16BE(entry.parentNumber, offset + 6);
    }
    buf.set(entry.identifier, offset + 8);
    offset += entryLength(entry.identifier);
  }
}
