import { compressionOf, decompress } from './decompress.js';
import { PT_NOTE, programHeaders } from './elf.js';

/**
 * The uncompressed kernel ELF inside an x86 bzImage, for PVH direct boot: QEMU then jumps straight to the ELF's
 * PVH entry point instead of running the bzImage's real-mode setup and self-decompression, which under TCG halves
 * the guest's boot time. Same result as the kernel tree's scripts/extract-vmlinux, but the payload is found through
 * the boot protocol header (Documentation/x86/boot.rst) instead of by scanning for compression magic.
 */

export class VmlinuxExtractionError extends Error {
  override readonly name = 'VmlinuxExtractionError';
  constructor(readonly kernelPath: string, reason: string) {
    super(`cannot extract vmlinux from ${kernelPath}: ${reason}`);
  }
}

/** payload_offset/payload_length exist from boot protocol 2.08 on. */
const MIN_PROTOCOL = 0x0208;
/** include/xen/interface/elfnote.h: the 32-bit PVH entry point, what QEMU looks for to boot an ELF kernel. */
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

/** The compressed payload; its last 4 bytes are the uncompressed size (gzip's ISIZE, or the kernel's size_append). */
export function bzImagePayload(bzImage: Buffer, kernelPath: string): Buffer {
  if (bzImage.length < 0x250 || bzImage.toString('latin1', 0x202, 0x206) !== 'HdrS') {
    throw new VmlinuxExtractionError(kernelPath, 'no "HdrS" setup header at 0x202: not an x86 bzImage');
  }
  const protocol = bzImage.readUInt16LE(0x206);
  if (protocol < MIN_PROTOCOL) {
    throw new VmlinuxExtractionError(kernelPath, `boot protocol 0x${protocol.toString(16)} is older than 2.08`);
  }
  // setup_sects == 0 means 4 (boot.rst); the protected-mode kernel follows the boot sector and the setup sectors.
  const setupSectors = bzImage.readUInt8(0x1f1) || 4;
  const start = (setupSectors + 1) * 512 + bzImage.readUInt32LE(0x248);
  const length = bzImage.readUInt32LE(0x24c);
  if (length < 4 || start + length > bzImage.length) {
    throw new VmlinuxExtractionError(kernelPath, `payload [${start}, +${length}) lies outside the ${bzImage.length}-byte file`);
  }
  return bzImage.subarray(start, start + length);
}

/** Whether an ELF64 little-endian image carries the PVH entry note QEMU needs to boot it directly. */
export function hasPvhEntry(elf: Buffer): boolean {
  return (programHeaders(elf) ?? [])
    .filter((header) => header.type === PT_NOTE)
    .some(({ offset, fileSize }) => {
      for (let note = offset; note + 12 <= offset + fileSize; ) {
        const nameSize = elf.readUInt32LE(note);
        const descSize = elf.readUInt32LE(note + 4);
        const type = elf.readUInt32LE(note + 8);
        if (type === XEN_ELFNOTE_PHYS32_ENTRY && elf.toString('latin1', note + 12, note + 12 + nameSize) === 'Xen\0') return true;
        note += 12 + align4(nameSize) + align4(descSize);
      }
      return false;
    });
}

const align4 = (n: number): number => (n + 3) & ~3;

/**
 * The kernel ELF, or undefined when this bzImage cannot be booted that way here: a compression the host has no
 * tool for, or a kernel built without CONFIG_PVH. Then the bzImage itself boots, only slower. A payload that
 * decompresses to the wrong size is corrupt and throws.
 */
export async function extractVmlinux(bzImage: Buffer, kernelPath: string): Promise<Buffer | undefined> {
  const payload = bzImagePayload(bzImage, kernelPath);
  const compression = compressionOf(payload);
  if (compression === undefined) return undefined;
  const expectedSize = payload.readUInt32LE(payload.length - 4);
  // gzip's size field is its own trailer; the other formats get the size appended after the stream.
  const stream = compression === 'gzip' ? payload : payload.subarray(0, payload.length - 4);
  const elf = await decompress(stream, compression);
  if (elf.length !== expectedSize) {
    throw new VmlinuxExtractionError(kernelPath, `${compression} payload gave ${elf.length} bytes, header says ${expectedSize}`);
  }
  return hasPvhEntry(elf) ? elf : undefined;
}
