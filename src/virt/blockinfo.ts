/**
 * Which bus and device name each disk of a guest gets: nova/virt/libvirt/blockinfo.py for a plain spawn of
 * an image-backed instance on kvm or qemu, as data and pure functions. Names and shapes are Nova's: a disk
 * mapping keyed 'root', 'disk', 'disk.local', 'disk.swap', 'disk.config', each a disk_info of bus, dev, type.
 *
 * Not carried over: libosinfo's disk model for an image's os_distro (Nova uses it only when the optional
 * libosinfo GObject bindings are installed), volumes (a SpawnRequest has no block_device_mapping), rescue.
 */
import type { ImageMeta } from '../nova/spawn-request.js';
import type { Architecture } from './arch.js';
import { InvalidImageProperty } from './errors/invalid-image-property.js';
import { TooManyDiskDevices } from './errors/too-many-disk-devices.js';
import type { GuestPlatform } from './platform.js';

/** nova.objects.fields.DiskBus.ALL: what hw_disk_bus / hw_cdrom_bus may say at all. */
export const DISK_BUSES = ['fdc', 'ide', 'sata', 'scsi', 'usb', 'virtio', 'xen', 'lxc', 'uml'] as const;

/** SUPPORTED_DEVICE_BUSES['kvm'] (and 'qemu', the same list). */
export const SUPPORTED_DISK_BUSES = ['virtio', 'scsi', 'ide', 'usb', 'fdc', 'sata'] as const;
export type DiskBus = (typeof SUPPORTED_DISK_BUSES)[number];

export type DeviceType = 'disk' | 'cdrom';
export type ConfigDriveFormat = 'iso9660' | 'vfat';

export interface DiskInfo {
  bus: DiskBus;
  dev: string;
  type: DeviceType;
  /** libvirt counts from 1; only the root disk has one. */
  boot_index?: string;
}

export interface DiskMapping {
  root: DiskInfo;
  /** The root disk again, under its image name (an image-backed instance). */
  disk: DiskInfo;
  'disk.local'?: DiskInfo;
  'disk.swap'?: DiskInfo;
  'disk.config'?: DiskInfo;
}

/** get_disk_info's result. */
export interface DiskInfoResult {
  disk_bus: DiskBus;
  cdrom_bus: DiskBus;
  mapping: DiskMapping;
}

/** get_dev_prefix_for_disk_bus */
const DEV_PREFIXES: Record<DiskBus, string> = { ide: 'hd', virtio: 'vd', scsi: 'sd', usb: 'sd', fdc: 'fd', sata: 'sd' };

/** get_dev_count_for_disk_bus: IDE has two channels of two; other buses are limited only by [compute] max_disk_devices_to_attach, unlimited by default. */
const DEV_COUNTS: Partial<Record<DiskBus, number>> = { ide: 4 };

/** Architectures whose machines have no IDE bus, so their cdroms go on SCSI. */
const SCSI_CDROM_ARCHITECTURES: readonly Architecture[] = ['ppc', 'ppc64', 'ppcle', 'ppc64le', 's390', 's390x', 'aarch64'];

/** block_device.generate_device_letter: a..z, aa..zz, aaa..zzz. */
export function generateDeviceName(prefix: string, index: number): string {
  let letters = '';
  for (let i = index; i >= 0; i = Math.floor(i / 26) - 1) letters = String.fromCharCode(97 + (i % 26)) + letters;
  return prefix + letters;
}

/** find_disk_dev_for_disk_bus: the first name with the bus's prefix (or `[libvirt] disk_prefix`) that no disk of the mapping has. */
export function findDiskDevForDiskBus(
  mapping: Partial<DiskMapping>,
  bus: DiskBus,
  diskPrefix: string | null,
  disk: string,
): string {
  const prefix = diskPrefix || DEV_PREFIXES[bus];
  const used = new Set(Object.values(mapping).map((info) => info?.dev));
  const maximum = DEV_COUNTS[bus];
  for (let index = 0; maximum === undefined || index < maximum; index++) {
    const dev = generateDeviceName(prefix, index);
    if (!used.has(dev)) return dev;
  }
  throw new TooManyDiskDevices(bus, maximum, disk);
}

/** The image asked for a bus: it must be a bus at all (Nova's DiskBusField) and one kvm/qemu supports (is_disk_bus_valid_for_virt). */
function requestedBus(property: string, value: string): DiskBus {
  if (!(DISK_BUSES as readonly string[]).includes(value)) {
    throw new InvalidImageProperty(property, value, `is not a disk bus (one of ${DISK_BUSES.join(', ')})`);
  }
  if (!(SUPPORTED_DISK_BUSES as readonly string[]).includes(value)) {
    throw new InvalidImageProperty(property, value, `is not a bus kvm or qemu supports (${SUPPORTED_DISK_BUSES.join(', ')})`);
  }
  return value as DiskBus;
}

/**
 * get_disk_bus_for_device_type: the image's hw_disk_bus / hw_cdrom_bus first; else virtio for a disk; a
 * cdrom goes on SCSI where the architecture has no IDE, on SATA for q35 machines (no IDE bus either, and
 * QEMU names a q35 per release, hence the substring), else on IDE.
 */
export function diskBusForDeviceType(
  image: Pick<ImageMeta, 'properties'>,
  platform: GuestPlatform,
  deviceType: DeviceType,
): DiskBus {
  const property = deviceType === 'disk' ? 'hw_disk_bus' : 'hw_cdrom_bus';
  const requested = image.properties[property];
  if (requested !== undefined) return requestedBus(property, requested);
  if (deviceType === 'disk') return 'virtio';
  if (SCSI_CDROM_ARCHITECTURES.includes(platform.arch)) return 'scsi';
  if (platform.machineType?.includes('q35')) return 'sata';
  return 'ide';
}

/** get_config_drive_type: an ISO 9660 drive is a cdrom, a VFAT one a disk. */
export function configDriveType(format: ConfigDriveFormat): DeviceType {
  return format === 'iso9660' ? 'cdrom' : 'disk';
}

export interface DiskMappingInput {
  image: Pick<ImageMeta, 'properties'>;
  platform: GuestPlatform;
  /** `[libvirt] disk_prefix` */
  diskPrefix: string | null;
  /** instance.ephemeral_gb (the flavor's): > 0 adds disk.local. */
  ephemeralGb: number;
  /** The flavor's swap in MiB: > 0 adds disk.swap. */
  swapMb: number;
  /** instance.root_device_name, e.g. /dev/vda; null lets the mapping name the root disk. */
  rootDeviceName: string | null;
  /** The config drive's format, null when the instance gets none (configdrive.required_by). */
  configDrive: ConfigDriveFormat | null;
}

/**
 * get_disk_info (= get_disk_mapping for a spawn): root disk first, then disk.local, disk.swap, and last the
 * config drive, each taking the first free name of its bus.
 */
export function getDiskInfo(input: DiskMappingInput): DiskInfoResult {
  const diskBus = diskBusForDeviceType(input.image, input.platform, 'disk');
  const cdromBus = diskBusForDeviceType(input.image, input.platform, 'cdrom');
  const next = (mapping: DiskMapping, name: string, bus: DiskBus, type: DeviceType): DiskInfo => ({
    bus,
    dev: findDiskDevForDiskBus(mapping, bus, input.diskPrefix, name),
    type,
  });

  const rootDev = input.rootDeviceName?.replace(/^\/dev\//, '') || findDiskDevForDiskBus({}, diskBus, input.diskPrefix, 'disk');
  const root: DiskInfo = { bus: diskBus, dev: rootDev, type: 'disk', boot_index: '1' };
  const mapping: DiskMapping = { root, disk: root };
  if (input.ephemeralGb > 0) mapping['disk.local'] = next(mapping, 'disk.local', diskBus, 'disk');
  if (input.swapMb > 0) mapping['disk.swap'] = next(mapping, 'disk.swap', diskBus, 'disk');
  if (input.configDrive !== null) {
    const type = configDriveType(input.configDrive);
    mapping['disk.config'] = next(mapping, 'disk.config', diskBusForDeviceType(input.image, input.platform, type), type);
  }
  return { disk_bus: diskBus, cdrom_bus: cdromBus, mapping };
}
