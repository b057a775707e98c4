/**
 * How Nova makes the blank ephemeral and swap files (driver._create_ephemeral, _create_swap, and
 * nova.privsep.fs without per-os_type virt_mkfs commands), as command lines.
 */

/** driver.py labels the flavor's ephemeral disk (disk.local) ephemeral0. */
export const EPHEMERAL_LABEL = 'ephemeral0';

/** privsep.fs._DEFAULT_FS_BY_OSTYPE, and _DEFAULT_FILE_SYSTEM for any other os_type (or none). */
const DEFAULT_FS_BY_OS_TYPE: Readonly<Record<string, string>> = { linux: 'ext4', windows: 'ntfs' };
const DEFAULT_FILE_SYSTEM = 'vfat';

/**
 * The file system of a new ephemeral disk: `[DEFAULT] default_ephemeral_format` when set, else by the
 * instance's os_type: ext4 for linux, ntfs for windows, vfat otherwise (Nova's default when neither is set).
 */
export function ephemeralFilesystem(osType: string | null, defaultEphemeralFormat: string | null): string {
  if (defaultEphemeralFormat) return defaultEphemeralFormat;
  return (osType !== null ? DEFAULT_FS_BY_OS_TYPE[osType] : undefined) ?? DEFAULT_FILE_SYSTEM;
}

/**
 * privsep.fs.unprivileged_mkfs: mkswap for swap, else `mkfs -t FS`, with -F where mkfs would otherwise ask
 * before writing to a regular file, and the label option the tool understands.
 */
export function mkfsCommand(filesystem: string, target: string, label: string | null): string[] {
  const command = filesystem === 'swap' ? ['mkswap'] : ['mkfs', '-t', filesystem];
  if (['ext3', 'ext4', 'ntfs'].includes(filesystem)) command.push('-F');
  if (label !== null) command.push(['msdos', 'vfat'].includes(filesystem) ? '-n' : '-L', label);
  command.push(target);
  return command;
}

/** driver._create_ephemeral on a file: a sparse raw file of `sizeGb` GiB, formatted and labelled ephemeral0. */
export function ephemeralCommands(target: string, sizeGb: number, filesystem: string): string[][] {
  return [['qemu-img', 'create', '-f', 'raw', target, `${sizeGb}G`], mkfsCommand(filesystem, target, EPHEMERAL_LABEL)];
}

/** driver._create_swap: a sparse raw file of `swapMb` MiB with a swap signature. */
export function swapCommands(target: string, swapMb: number): string[][] {
  return [['qemu-img', 'create', '-f', 'raw', target, `${swapMb}M`], mkfsCommand('swap', target, null)];
}
