/** Just enough ELF64 little-endian reading for the guest builder: the program headers. */

export const PT_INTERP = 3;
export const PT_NOTE = 4;

export interface ProgramHeader {
  type: number;
  offset: number;
  fileSize: number;
}

/** The program headers, or undefined when `bytes` is not a 64-bit little-endian ELF file. */
export function programHeaders(bytes: Buffer): ProgramHeader[] | undefined {
  if (bytes.length < 0x40 || bytes.readUInt32BE(0) !== 0x7f454c46 || bytes[4] !== 2 || bytes[5] !== 1) return undefined;
  const table = Number(bytes.readBigUInt64LE(0x20));
  const entrySize = bytes.readUInt16LE(0x36);
  return Array.from({ length: bytes.readUInt16LE(0x38) }, (_, i) => {
    const header = table + i * entrySize;
    return {
      type: bytes.readUInt32LE(header),
      offset: Number(bytes.readBigUInt64LE(header + 0x08)),
      fileSize: Number(bytes.readBigUInt64LE(header + 0x20)),
    };
  });
}
