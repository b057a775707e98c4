import type { ConfigDriveFormat } from './make-drive.js';
import { readIso } from './iso9660/index.js';
import type { DriveTree } from './tree.js';
import { readVfat } from './vfat/index.js';

export interface DriveContents {
  format: ConfigDriveFormat;
  label: string;
  tree: DriveTree;
}

/** ECMA-119: the first volume descriptor is at sector 16 and starts with type then "CD001". */
function isIso9660(image: Uint8Array): boolean {
  const at = 16 * 2048 + 1;
  return image.length >= at + 5 && Buffer.from(image.subarray(at, at + 5)).toString('latin1') === 'CD001';
}

/** Reads a config drive of either format back (our own readers), for operators debugging a guest. */
export function readDrive(image: Uint8Array): DriveContents {
  if (isIso9660(image)) {
    const { volumeId, tree } = readIso(image);
    return { format: 'iso9660', label: volumeId, tree };
  }
  const { label, tree } = readVfat(image);
  return { format: 'vfat', label, tree };
}
