import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CONFIG_DRIVE_FORMATS } from '../config/schema.js';
import { makeDrive, type ConfigDriveFormat } from '../configdrive/make-drive.js';
import { readDrive } from '../configdrive/read-drive.js';
import { planMetadata } from '../compute/spawn-plan.js';
import { guestDiskInfo } from '../virt/plan-guest.js';
import { toDriveTree } from '../metadata/instance-metadata.js';
import { loadMetadataOptions } from '../metadata/load-options.js';
import { getLogger } from '../log.js';
import { probeHost } from '../virt/host-facts.js';
import { readVirtOptions } from '../virt/virt-options.js';
import { configFileOption, loadFromArgs } from './config-options.js';
import { EX_OK } from './exit-codes.js';
import { readSpawnMessage, spawnSourceOptions } from './spawn-source.js';
import { UsageError } from './usage-error.js';

/** OUT is already there (exit 73, EX_CANTCREAT): like the daemon, the command never replaces a drive. */
export class DriveExistsError extends Error {
  override readonly name = 'DriveExistsError';
  constructor(readonly path: string) {
    super(`${path} exists: a config drive is never replaced`);
  }
}

export const driveHelp = `usage:
  nova-spawnd drive build (--request FILE | --message FILE) [--format iso9660|vfat] -o OUT [--config-file FILE]... [--config-dir DIR]...
  nova-spawnd drive ls IMAGE
  nova-spawnd drive cat IMAGE PATH

build   writes the config drive a spawn would get. --message takes the raw body of a build_and_run_instance
        cast as it sits on the bus (an oslo.messaging envelope); --request takes our plain JSON request
        (docs/spawn-request.md). FILE "-" is standard input. The format defaults to [DEFAULT]
        config_drive_format; [api] options shape the metadata as for the daemon. OUT is never replaced.
ls      lists the files of a config drive image (ISO 9660 or VFAT) with their sizes.
cat     writes one file of a config drive image to standard output.`;

async function build(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...configFileOption,
      ...spawnSourceOptions,
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
    },
    strict: true,
  });
  if (!values.output) throw new UsageError('drive build needs -o OUT');
  const format = values.format as ConfigDriveFormat | undefined;
  if (format !== undefined && !CONFIG_DRIVE_FORMATS.includes(format)) {
    throw new UsageError(`--format ${JSON.stringify(values.format)}: must be one of ${CONFIG_DRIVE_FORMATS.join(', ')}`);
  }

  const loaded = loadFromArgs(args);
  const { config } = loaded;
  const instancesPath = config.DEFAULT.instances_path;
  // The options and host facts the daemon plans with: the disks are named as a spawn names them.
  const options = { virt: readVirtOptions(config, await probeHost(instancesPath)), metadata: loadMetadataOptions(config) };
  const { request } = await readSpawnMessage(values);

  const output = resolve(values.output);
  const chosen = format ?? config.DEFAULT.config_drive_format;
  const tree = toDriveTree(planMetadata(request, options, guestDiskInfo({ request, options: options.virt, configDrive: chosen })).metadata);
  const mkisofsCmd = loaded.explicitlySet.has('DEFAULT.mkisofs_cmd') ? config.DEFAULT.mkisofs_cmd : null;
  const outcome = await makeDrive(tree, output, { format: chosen, mkisofsCmd, recordedAt: new Date() });
  if (outcome === 'exists') throw new DriveExistsError(output);
  getLogger('nova_spawnd.drive').info('config drive built', { instance: request.instance.uuid, format: chosen, files: tree.size, path: output });
  return EX_OK;
}

async function list(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('drive ls takes one IMAGE');
  const drive = readDrive(await readFile(positionals[0]!));
  const lines = [`# ${drive.format}, label ${drive.label}, ${drive.tree.size} files`];
  for (const [path, data] of [...drive.tree].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`${String(data.length).padStart(9)} /${path}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EX_OK;
}

async function cat(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  if (positionals.length !== 2) throw new UsageError('drive cat takes IMAGE PATH');
  const [image, wanted] = positionals as [string, string];
  const path = wanted.replace(/^\/+/, '');
  const data = readDrive(await readFile(image)).tree.get(path);
  if (!data) throw new UsageError(`${image} has no file /${path} (nova-spawnd drive ls ${image} lists them)`);
  await new Promise<void>((done, fail) => process.stdout.write(data, (error) => (error ? fail(error) : done())));
  return EX_OK;
}

export function drive(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'build':
      return build(rest);
    case 'ls':
      return list(rest);
    case 'cat':
      return cat(rest);
    default:
      throw new UsageError(`drive: unknown subcommand ${JSON.stringify(sub ?? '')}\n\n${driveHelp}`);
  }
}
