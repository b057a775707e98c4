/**
 * Config drive images in ISO 9660 with Rock Ridge and Joliet, equivalent to Nova's
 * `genisoimage -ldots -allow-lowercase -allow-multidot -l -publisher ... -quiet -J -r -V config-2`, written
 * natively (no genisoimage at run time), and read back for operators.
 */
import { toDirectoryTree, type DriveTree } from '../tree.js';
import { planLayout } from './layout.js';
import { validateIsoOptions } from './options.js';
import { writeIso } from './writer.js';

export interface IsoOptions {
  /** Nova uses "config-2"; 1-16 of A-Z a-z 0-9 _ . - */
  volumeId: string;
  /** e.g. "nova-spawnd 0.1.0"; at most 64 printable ASCII characters. */
  publisher: string;
  /** Every date in the image (descriptors, records, Rock Ridge TF), in UTC. */
  recordedAt: Date;
}

/** Same tree and options give the same bytes. */
export function buildIso(tree: DriveTree, options: IsoOptions): Buffer {
  validateIsoOptions(options);
  return writeIso(planLayout(toDirectoryTree(tree)), options);
}

export { readIso } from './reader.js';
export { InvalidIsoOptionError } from './options.js';
export { UnsupportedDriveTreeError } from './layout.js';
export { MalformedIsoError } from './malformed-iso-error.js';
