/** SpawnRequest + options -> GuestConfig: every decision about the domain, as data (driver.py _get_guest_config). */
import type { SpawnRequest } from '../nova/spawn-request.js';
import { getDiskInfo, type ConfigDriveFormat, type DiskInfoResult, type DiskMapping } from './blockinfo.js';
import type { DirectKernelBoot, GuestConfig, GuestOs } from './guest-config.js';
import { planDisks, type LocalDiskImages } from './guest-disks.js';
import { planInterfaces } from './guest-interfaces.js';
import { planNovaMeta } from './guest-metadata.js';
import { instanceName } from './instance-name.js';
import { configDrivePath, consoleLogPath } from './instance-paths.js';
import { guestPlatform } from './platform.js';
import type { VirtOptions } from './virt-options.js';

/** driver.CONSOLE: every console a Linux guest may have, so its kernel messages reach one we capture. */
const CONSOLE = 'console=tty0 console=ttyS0 console=hvc0';

export interface GuestRequest {
  request: SpawnRequest;
  options: VirtOptions;
  /** The root disk, and disk.local / disk.swap when the flavor has ephemeral_gb / swap. */
  images: LocalDiskImages;
  /** The config drive's format, null when the instance gets none. Its file is `<instance dir>/disk.config`. */
  configDrive: ConfigDriveFormat | null;
  /** Kernel and ramdisk files for direct kernel boot (the instance has a kernel_id), null to boot the root disk. */
  kernel: { kernel: string; ramdisk: string | null } | null;
  /** The domain's creation time in its metadata. */
  now: Date;
}

export interface GuestPlan {
  guest: GuestConfig;
  /** Nova's disk_info: the buses and the mapping the guest's device names came from. */
  diskInfo: DiskInfoResult;
}

/**
 * _set_guest_for_inst_kernel: the image's os_command_line, else the root device and every console; QEMU's
 * emulated timer is slow enough for the kernel's timer check to fail under TCG, hence no_timer_check.
 */
function directKernelBoot(input: GuestRequest, kernel: NonNullable<GuestRequest['kernel']>, rootDeviceName: string): DirectKernelBoot {
  const commandLine = input.request.image.properties['os_command_line'];
  const defaultCmdline = `root=${rootDeviceName} ${CONSOLE}${input.options.virt_type === 'qemu' ? ' no_timer_check' : ''}`;
  return { kernel: kernel.kernel, initrd: kernel.ramdisk, cmdline: commandLine || defaultCmdline };
}

/** The device names the libvirt driver records on the instance (root_device_name, default_ephemeral_device, default_swap_device). */
export function deviceNames(mapping: DiskMapping): {
  root_device_name: string;
  default_ephemeral_device: string | null;
  default_swap_device: string | null;
} {
  const dev = (info: { dev: string } | undefined) => (info === undefined ? null : `/dev/${info.dev}`);
  return {
    root_device_name: `/dev/${mapping.root.dev}`,
    default_ephemeral_device: dev(mapping['disk.local']),
    default_swap_device: dev(mapping['disk.swap']),
  };
}

/** blockinfo.get_disk_info for the guest: where each disk goes (bus, device name), all the metadata needs of it. */
export function guestDiskInfo(input: Pick<GuestRequest, 'request' | 'options' | 'configDrive'>): DiskInfoResult {
  const { request, options } = input;
  const { instance, image } = request;
  return getDiskInfo({
    image,
    platform: guestPlatform(image, { arch: options.host_arch, machineTypes: options.machine_types }),
    diskPrefix: options.disk_prefix,
    ephemeralGb: instance.flavor.ephemeral_gb,
    swapMb: instance.flavor.swap,
    rootDeviceName: instance.root_device_name,
    configDrive: input.configDrive,
  });
}

export function planGuest(input: GuestRequest): GuestPlan {
  const { request, options } = input;
  const { instance, image } = request;
  const platform = guestPlatform(image, { arch: options.host_arch, machineTypes: options.machine_types });
  const diskInfo = guestDiskInfo(input);
  const { disks, controllers } = planDisks({
    mapping: diskInfo.mapping,
    images: input.images,
    configDrivePath: configDrivePath(options.instances_path, instance.uuid),
    flavor: instance.flavor,
    image,
    cachemode: options.disk_cachemodes.get('file') ?? options.default_cachemode,
  });
  const os: GuestOs = {
    arch: platform.arch,
    machineType: platform.machineType,
    boot:
      input.kernel === null
        ? { bootDev: 'hd' }
        : directKernelBoot(input, input.kernel, deviceNames(diskInfo.mapping).root_device_name),
  };
  return {
    diskInfo,
    guest: {
      virtType: options.virt_type,
      name: instanceName(instance),
      uuid: instance.uuid,
      memoryKib: instance.flavor.memory_mb * 1024,
      vcpus: instance.flavor.vcpus,
      metadata: planNovaMeta(instance, input.now),
      os,
      disks,
      controllers,
      interfaces: planInterfaces(instance.network_info, image),
      consoleLog: consoleLogPath(options.instances_path, instance.uuid),
    },
  };
}
