import { MalformedVfatError } from './malformed-image-error.js';
import type { VolumeGeometry } from './volume-layout.js';

/** The FAT12/16 boot sector: BIOS parameter block (BPB) and extended BPB, as mkfs.vfat lays it out. */
const BOOT_SECTOR_SIZE = 512;
export const MEDIA_FIXED_DISK = 0xf8;
/** "No label" in both the boot sector and blkid's eyes. */
export const NO_LABEL = 'NO NAME    ';

export interface BootSector extends VolumeGeometry {
  media: number;
  sectorsPerTrack: number;
  heads: number;
  hiddenSectors: number;
  volumeSerial: number;
  /** 11 characters, space padded. */
  volumeLabel: string;
  /** 8 characters, "FAT16   " */
  fileSystemType: string;
}

// Microsoft's recommended OEM name: some old drivers look at it, nothing modern cares.
const OEM_NAME = 'MSWIN4.1';
const EXTENDED_BOOT_SIGNATURE = 0x29;
const BOOT_CODE_OFFSET = 0x3e;
// The volume is not bootable: "int 0x18" hands the BIOS on to its next boot device; "hlt; jmp $-1" if it returns.
const BOOT_CODE = [0xcd, 0x18, 0xf4, 0xeb, 0xfd];
const SIGNATURE = 0xaa55;

function writeAscii(view: DataView, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
}

function readAscii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

export function encodeBootSector(sector: BootSector): Uint8Array {
  const bytes = new Uint8Array(BOOT_SECTOR_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set([0xeb, BOOT_CODE_OFFSET - 2, 0x90]); // jmp short to the boot code; nop
  writeAscii(view, 3, OEM_NAME);
  view.setUint16(11, sector.bytesPerSector, true);
  view.setUint8(13, sector.sectorsPerCluster);
  view.setUint16(14, sector.reservedSectors, true);
  view.setUint8(16, sector.fatCount);
  view.setUint16(17, sector.rootEntryCount, true);
  // The 16-bit count is used when it fits, the 32-bit one otherwise, never both.
  view.setUint16(19, sector.totalSectors <= 0xffff ? sector.totalSectors : 0, true);
  view.setUint8(21, sector.media);
  view.setUint16(22, sector.sectorsPerFat, true);
  view.setUint16(24, sector.sectorsPerTrack, true);
  view.setUint16(26, sector.heads, true);
  view.setUint32(28, sector.hiddenSectors, true);
  view.setUint32(32, sector.totalSectors > 0xffff ? sector.totalSectors : 0, true);
  view.setUint8(36, sector.media === MEDIA_FIXED_DISK ? 0x80 : 0x00); // BIOS drive number
  view.setUint8(38, EXTENDED_BOOT_SIGNATURE);
  view.setUint32(39, sector.volumeSerial, true);
  writeAscii(view, 43, sector.volumeLabel);
  writeAscii(view, 54, sector.fileSystemType);
  bytes.set(BOOT_CODE, BOOT_CODE_OFFSET);
  view.setUint16(510, SIGNATURE, true);
  return bytes;
}

function isPowerOfTwo(value: number): boolean {
  return value > 0 && (value & (value - 1)) === 0;
}

/** Checks what the rest of the reader relies on; the FAT type itself is decided from the cluster count later. */
export function decodeBootSector(bytes: Uint8Array): BootSector {
  if (bytes.length < BOOT_SECTOR_SIZE) {
    throw new MalformedVfatError('image length', bytes.length, `shorter than a ${BOOT_SECTOR_SIZE}-byte boot sector`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, BOOT_SECTOR_SIZE);
  const field = (name: string, offset: number, value: number, valid: boolean, expected: string): number => {
    if (!valid) throw new MalformedVfatError(`boot sector ${name} (offset ${offset})`, value, `expected ${expected}`);
    return value;
  };
  const u8 = (offset: number): number => view.getUint8(offset);
  const u16 = (offset: number): number => view.getUint16(offset, true);

  field('signature', 510, u16(510), u16(510) === SIGNATURE, '0xaa55 (43605)');
  field('jump instruction', 0, u8(0), u8(0) === 0xeb || u8(0) === 0xe9, 'a jmp (0xeb or 0xe9)');
  const bytesPerSector = field('bytes per sector', 11, u16(11), isPowerOfTwo(u16(11)) && u16(11) >= 512 && u16(11) <= 4096, 'a power of two from 512 to 4096');
  const sectorsPerCluster = field('sectors per cluster', 13, u8(13), isPowerOfTwo(u8(13)), 'a power of two');
  const reservedSectors = field('reserved sectors', 14, u16(14), u16(14) >= 1, 'at least 1');
  const fatCount = field('number of FATs', 16, u8(16), u8(16) >= 1, 'at least 1');
  const rootEntryCount = field('root directory entries', 17, u16(17), u16(17) > 0, 'more than 0 (0 means FAT32, which this reader does not read)');
  const sectorsPerFat = field('sectors per FAT', 22, u16(22), u16(22) > 0, 'more than 0 (0 means FAT32, which this reader does not read)');
  const totalSectors = u16(19) || view.getUint32(32, true);
  field('total sectors', u16(19) ? 19 : 32, totalSectors, totalSectors > 0, 'more than 0');
  const hasExtendedBpb = u8(38) === EXTENDED_BOOT_SIGNATURE;
  return {
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    fatCount,
    rootEntryCount,
    sectorsPerFat,
    totalSectors,
    media: u8(21),
    sectorsPerTrack: u16(24),
    heads: u16(26),
    hiddenSectors: view.getUint32(28, true),
    volumeSerial: hasExtendedBpb ? view.getUint32(39, true) : 0,
    volumeLabel: hasExtendedBpb ? readAscii(bytes, 43, 11) : NO_LABEL,
    fileSystemType: hasExtendedBpb ? readAscii(bytes, 54, 8) : '',
  };
}
