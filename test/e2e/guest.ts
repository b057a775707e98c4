import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { newcArchive, type CpioEntry } from './cpio.js';
import { PT_INTERP, programHeaders } from './elf.js';
import { loadModules } from './kernel-modules.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { extractVmlinux } from './vmlinux.js';

/**
 * The end-to-end test guest: Debian's own kernel booted directly (no disk image, no bootloader) with a tiny
 * busybox initramfs whose /init (guest-init.sh) finds the config drive by its label config-2, prints every file
 * on it to the serial console and powers off. Boot it with:
 *
 *   <os><type arch='x86_64' machine='pc'>hvm</type>            (or q35)
 *     <kernel>{kernel}</kernel><initrd>{initrd}</initrd><cmdline>{cmdline}</cmdline></os>
 *   <features><acpi/></features>                                 poweroff goes through ACPI
 *   <on_poweroff>destroy</on_poweroff>
 *   <serial type='file'><source path='.../console.log'/></serial>  then parseConsole(console.log)
 *
 * in a `<domain type='qemu'>` (KVM does not work on these machines) with 128 MiB (96 MiB worked). The kernel
 * panics, and with panic=-1 reboots, only when the initramfs itself is broken: give test domains
 * on_reboot=destroy, or expect waitForShutoff to time out on a reboot loop.
 */
export interface GuestImage {
  /** The kernel's uncompressed ELF (PVH boot, about twice as fast under TCG), or /boot/vmlinuz-* itself. */
  kernel: string;
  /** gzip'd cpio (newc). */
  initrd: string;
  cmdline: string;
}

export class GuestImageError extends Error {
  override readonly name = 'GuestImageError';
}

const GUEST_CACHE_DIR = '/var/cache/nova-spawnd-test';

/**
 * Drivers for every bus Nova attaches a config drive to on x86 (IDE and SATA CD-ROMs, virtio and SCSI disks) and
 * both config drive formats, and virtio NICs; their dependencies are added from modules.dep.
 */
const GUEST_MODULES: readonly string[] = [
  'ata_piix', 'ahci', 'sr_mod', 'sd_mod', 'virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_net',
  'isofs', 'vfat', 'nls_cp437', 'nls_ascii', 'nls_utf8',
];

// quiet: some 330 lines of boot messages on the emulated UART cost half a second; warnings and errors still show.
const GUEST_CMDLINE = 'console=ttyS0 panic=-1 quiet';
const BUSYBOX = '/bin/busybox';
const INIT_SCRIPT = join(PACKAGE_ROOT, 'test/e2e/guest-init.sh');

const builds = new Map<string, Promise<GuestImage>>();

/**
 * Builds the guest once per kernel and initramfs content and keeps it under `cacheDir` (names carry a content
 * hash, so a changed kernel, /init or module set never reuses a stale file). Needs linux-image-amd64 and
 * busybox-static, which scripts/start-libvirtd installs. Files are world-readable: qemu runs as libvirt-qemu.
 */
export function ensureGuestImage(cacheDir: string = GUEST_CACHE_DIR): Promise<GuestImage> {
  let build = builds.get(cacheDir);
  if (!build) {
    build = buildGuestImage(cacheDir).catch((error: unknown) => {
      builds.delete(cacheDir);
      throw error;
    });
    builds.set(cacheDir, build);
  }
  return build;
}

async function buildGuestImage(cacheDir: string): Promise<GuestImage> {
  const kernelVersion = await newestKernelWithModules();
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  const [kernel, initrd] = await Promise.all([
    ensureVmlinux(kernelVersion, cacheDir),
    ensureInitramfs(kernelVersion, cacheDir),
  ]);
  return { kernel, initrd, cmdline: GUEST_CMDLINE };
}

/** The highest /boot/vmlinuz-<kver> whose modules are installed (the host's own kernel may be a different one). */
async function newestKernelWithModules(): Promise<string> {
  const versions: string[] = [];
  for (const file of await readdir('/boot').catch(() => [])) {
    if (!file.startsWith('vmlinuz-')) continue;
    const version = file.slice('vmlinuz-'.length);
    if (await exists(join('/lib/modules', version, 'modules.dep'))) versions.push(version);
  }
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const newest = versions.at(-1);
  if (!newest) {
    throw new GuestImageError('no /boot/vmlinuz-<kver> with /lib/modules/<kver>/modules.dep: install linux-image-amd64 (scripts/start-libvirtd does)');
  }
  return newest;
}

async function ensureVmlinux(kernelVersion: string, cacheDir: string): Promise<string> {
  const bzImagePath = `/boot/vmlinuz-${kernelVersion}`;
  const bzImage = await readFile(bzImagePath);
  const path = join(cacheDir, `vmlinux-${kernelVersion}-${shortHash(bzImage)}`);
  if (await exists(path)) return path;
  const elf = await extractVmlinux(bzImage, bzImagePath);
  if (!elf) return bzImagePath;
  await writeAtomically(path, elf);
  return path;
}

async function ensureInitramfs(kernelVersion: string, cacheDir: string): Promise<string> {
  const archive = gzipSync(newcArchive(await initramfsEntries(kernelVersion)));
  const path = join(cacheDir, `initrd-${kernelVersion}-${shortHash(archive)}.img`);
  if (!(await exists(path))) await writeAtomically(path, archive);
  return path;
}

async function initramfsEntries(kernelVersion: string): Promise<CpioEntry[]> {
  const busybox = await readFile(BUSYBOX).catch(() => {
    throw new GuestImageError(`${BUSYBOX} is missing: install busybox-static (scripts/start-libvirtd does)`);
  });
  if (programHeaders(busybox)?.some((header) => header.type === PT_INTERP) ?? true) {
    throw new GuestImageError(`${BUSYBOX} is not a static x86-64 executable: install busybox-static instead of busybox`);
  }
  const modules = await loadModules(kernelVersion, GUEST_MODULES);
  const directories = ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'mnt', 'lib', 'lib/modules'];
  return [
    ...directories.map((path): CpioEntry => ({ kind: 'directory', path })),
    // The kernel opens /dev/console for /init's stdio before /init can mount devtmpfs.
    { kind: 'character-device', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: busybox, executable: true },
    { kind: 'file', path: 'init', data: await readFile(INIT_SCRIPT), executable: true },
    // The /init loads lib/modules/*.ko in glob order, so the prefix carries the dependency order.
    ...modules.map(({ name, ko }, i): CpioEntry => ({
      kind: 'file',
      path: `lib/modules/${String(i).padStart(3, '0')}-${name}.ko`,
      data: ko,
    })),
  ];
}

const shortHash = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** Parallel test runs may build the same file: each writes its own temporary name, the rename is atomic. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, bytes, { mode: 0o644 });
  await rename(temporary, path);
}
