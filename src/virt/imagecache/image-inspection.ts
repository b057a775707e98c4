/**
 * The safety rules Nova applies to an image before using it as a disk (images.fetch_to_raw,
 * do_image_deep_inspection, libvirt_utils.create_image): the format comes from the content, never from
 * Glance's disk_format; a file that would make qemu open other host files is refused.
 */
import type { DiskFormat } from '../guest-config.js';
import { BaseFileProbes } from './base-file-probes.js';
import { DiskCommandFailed } from './errors/disk-command-failed.js';
import { ImageUnacceptable } from './errors/image-unacceptable.js';
import { qemuImgInfo, type DiskInfo } from './qemu-img.js';

/** One per process: what it remembers holds for as long as the cache files stay as they are. */
const probes = new BaseFileProbes(qemuImgInfo);

/** The formats the domain planner can attach (DiskFormat). */
const USABLE_FORMATS: readonly string[] = ['raw', 'qcow2'] satisfies readonly DiskFormat[];

/** Nova does not hold the AMI family to their disk_format: kernels and ramdisks are plain files. */
const UNCHECKED_CLAIMS = ['ami', 'aki', 'ari'];

export interface UsableDiskInfo extends DiskInfo {
  format: DiskFormat;
}

/** Why the probed file may not become a disk, or null when it may. Pure: the rules as Nova has them. */
export function unacceptableReason(info: DiskInfo, claimedDiskFormat: string | null): string | null {
  if (info.backingFile !== null) return `format ${info.format} has a backing file ${info.backingFile}`;
  if (info.dataFile !== null) return `format ${info.format} has an external data file ${info.dataFile}`;
  if (!USABLE_FORMATS.includes(info.format)) return `format ${info.format} is not supported here (${USABLE_FORMATS.join(', ')})`;
  if (claimedDiskFormat === null || UNCHECKED_CLAIMS.includes(claimedDiskFormat)) return null;
  // An ISO is a raw file to qemu.
  const expected = claimedDiskFormat === 'iso' ? 'raw' : claimedDiskFormat;
  return info.format === expected ? null : `content is ${info.format} but disk_format says ${claimedDiskFormat}`;
}

/** The probe `probing` gives, judged by the rules; `image` names it in errors. */
async function judged(image: string, path: string, claimedDiskFormat: string | null, probing: Promise<DiskInfo | null>): Promise<UsableDiskInfo | null> {
  let info: DiskInfo | null;
  try {
    info = await probing;
  } catch (error) {
    // An exit code or a signal (prlimit's limits) is the file's doing; a tool that did not start is not.
    if (error instanceof DiskCommandFailed && error.started) {
      throw new ImageUnacceptable(image, path, `qemu-img info failed: ${error.stderr.trim() || error.status}`);
    }
    throw error;
  }
  if (info === null) return null;
  const reason = unacceptableReason(info, claimedDiskFormat);
  if (reason !== null) throw new ImageUnacceptable(image, path, reason);
  return info as UsableDiskInfo;
}

/**
 * Probes `path` with qemu-img (a published cache file once per process: base-file-probes.ts) and applies
 * the rules. `image` names it in errors (the image id); `claimedDiskFormat` is Glance's disk_format when
 * known, null to skip that comparison.
 */
export async function inspectImage(image: string, path: string, claimedDiskFormat: string | null): Promise<UsableDiskInfo> {
  return (await judged(image, path, claimedDiskFormat, probes.info(path)))!;
}

/** inspectImage of a published cache file, or null when the cache does not hold it. */
export function inspectCachedImage(image: string, path: string, claimedDiskFormat: string | null): Promise<UsableDiskInfo | null> {
  return judged(image, path, claimedDiskFormat, probes.infoIfPresent(path));
}
