/**
 * nova.virt.configdrive.ConfigDriveBuilder.make_drive, minus its weaknesses: the image is built in-process
 * (no genisoimage, no mkfs, no loop mount, no root), and it appears at its path atomically, complete or not at
 * all, so a crash never leaves a half-written drive that a retry would then refuse to replace.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { NovaConfig } from '../config/schema.js';
import { linkIntoPlace, pathExists, placeImage, syncPath } from '../durable-files.js';
import { VERSION } from '../version.js';
import type { DiskImage } from '../disk-image.js';
import { buildIso } from './iso9660/index.js';
import type { DriveTree } from './tree.js';
import { buildVfat } from './vfat/index.js';

export const CONFIG_DRIVE_LABEL = 'config-2';
export const PUBLISHER = `nova-spawnd ${VERSION}`;

export type ConfigDriveFormat = NovaConfig['DEFAULT']['config_drive_format'];

export interface DriveOptions {
  format: ConfigDriveFormat;
  /** The operator's [DEFAULT] mkisofs_cmd, only when a configuration file set it: then Nova's way is used. */
  mkisofsCmd: string | null;
  /** Every timestamp inside the image. */
  recordedAt: Date;
}

/** The tool failed; its own words are kept for the operator. */
export class ExternalIsoToolError extends Error {
  override readonly name = 'ExternalIsoToolError';
  constructor(
    readonly command: string,
    reason: string,
  ) {
    super(`[DEFAULT] mkisofs_cmd = ${JSON.stringify(command)} failed: ${reason}`);
  }
}

/** The in-process image, as regions of bytes (an ISO is one region; a VFAT image is mostly holes). */
export function buildImage(tree: DriveTree, format: ConfigDriveFormat, recordedAt: Date): DiskImage {
  if (format === 'vfat') return buildVfat(tree, { label: CONFIG_DRIVE_LABEL, recordedAt });
  const iso = buildIso(tree, { volumeId: CONFIG_DRIVE_LABEL, publisher: PUBLISHER, recordedAt });
  return { size: iso.length, extents: [{ offset: 0, bytes: iso }] };
}

/** Nova's _make_iso9660, argument for argument, on the tree written out to a scratch directory. */
async function runExternalIsoTool(command: string, tree: DriveTree, output: string): Promise<void> {
  const scratch = await mkdtemp(join(dirname(output), '.config-drive-tree-'));
  try {
    const root = join(scratch, 'tree');
    for (const [path, data] of tree) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), data);
    }
    const args = ['-o', output, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-publisher', PUBLISHER, '-quiet', '-J', '-r', '-V', CONFIG_DRIVE_LABEL, root];
    try {
      await promisify(execFile)(command, args, { maxBuffer: 1 << 20 });
    } catch (error) {
      const failure = error as NodeJS.ErrnoException & { stderr?: string };
      throw new ExternalIsoToolError(command, failure.code === 'ENOENT' ? 'no such command' : (failure.stderr?.trim() || failure.message));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  // The tool closes its output but does not sync it; its name must never point at data a power cut lost.
  await syncPath(output);
}

/**
 * Puts the drive at `path` unless a drive is already there (Nova never replaces one: the guest may have
 * seen it), and returns whether this call created it. The image is staged under a name of its own beside
 * `path` and its data synced before link(2), which, unlike rename(2), never replaces a file: the drive
 * appears complete or not at all. Its name is durable once the directory is synced (the spawn pipeline
 * syncs the instance directory once, for all of its files). Only the external tool is spared by a look
 * first: with the built-in writer a stat(2) on every spawn costs more than building the rare redelivered
 * spawn's drive in vain (link(2) then finds the drive there).
 */
export async function placeDrive(tree: DriveTree, path: string, options: DriveOptions): Promise<'created' | 'exists'> {
  if (options.format === 'iso9660' && options.mkisofsCmd !== null) {
    if (await pathExists(path)) return 'exists';
    const { outcome } = await linkIntoPlace(path, (staged) => runExternalIsoTool(options.mkisofsCmd!, tree, staged));
    return outcome;
  }
  return placeImage(path, buildImage(tree, options.format, options.recordedAt));
}

/** placeDrive, then the directory synced: the drive survives a power cut once this returns. */
export async function makeDrive(tree: DriveTree, path: string, options: DriveOptions): Promise<'created' | 'exists'> {
  const outcome = await placeDrive(tree, path, options);
  await syncPath(dirname(path));
  return outcome;
}
