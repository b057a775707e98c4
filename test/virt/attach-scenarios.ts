/** The attach-rule scenarios: the brief's table (every row) and the edges around it. */
import type { Architecture } from '../../src/virt/arch.js';
import { getDiskInfo, type ConfigDriveFormat, type DiskInfoResult } from '../../src/virt/blockinfo.js';
import { guestPlatform, machineTypesByArch } from '../../src/virt/platform.js';

export interface AttachScenario {
  label: string;
  hostArch: Architecture;
  properties: Record<string, string>;
  /** `[libvirt] hw_machine_type` entries */
  machineTypes: string[];
  diskPrefix: string | null;
  ephemeralGb: number;
  swapMb: number;
  rootDeviceName: string | null;
  configDrive: ConfigDriveFormat | null;
}

export function scenario(label: string, fields: Partial<Omit<AttachScenario, 'label'>> = {}): AttachScenario {
  return {
    label,
    hostArch: 'x86_64',
    properties: {},
    machineTypes: [],
    diskPrefix: null,
    ephemeralGb: 0,
    swapMb: 0,
    rootDeviceName: null,
    configDrive: 'iso9660',
    ...fields,
  };
}

export function ourDiskInfo(s: AttachScenario): DiskInfoResult {
  const image = { properties: s.properties };
  return getDiskInfo({
    image,
    platform: guestPlatform(image, { arch: s.hostArch, machineTypes: machineTypesByArch(s.machineTypes) }),
    diskPrefix: s.diskPrefix,
    ephemeralGb: s.ephemeralGb,
    swapMb: s.swapMb,
    rootDeviceName: s.rootDeviceName,
    configDrive: s.configDrive,
  });
}

/** A row of the table: where the config drive goes, and the root disk with it. */
export interface AttachRow {
  scenario: AttachScenario;
  device: 'cdrom' | 'disk';
  bus: string;
  dev: string;
  root: { bus: string; dev: string };
}

const VDA = { bus: 'virtio', dev: 'vda' };

export const TABLE: AttachRow[] = [
  { scenario: scenario('x86_64 pc'), device: 'cdrom', bus: 'ide', dev: 'hda', root: VDA },
  { scenario: scenario('q35 (image hw_machine_type)', { properties: { hw_machine_type: 'q35' } }), device: 'cdrom', bus: 'sata', dev: 'sda', root: VDA },
  { scenario: scenario('q35 ([libvirt] hw_machine_type)', { machineTypes: ['x86_64=q35'] }), device: 'cdrom', bus: 'sata', dev: 'sda', root: VDA },
  { scenario: scenario('aarch64 (image)', { properties: { hw_architecture: 'aarch64' } }), device: 'cdrom', bus: 'scsi', dev: 'sda', root: VDA },
  { scenario: scenario('aarch64 (host)', { hostArch: 'aarch64' }), device: 'cdrom', bus: 'scsi', dev: 'sda', root: VDA },
  { scenario: scenario('ppc64le', { properties: { hw_architecture: 'ppc64le' } }), device: 'cdrom', bus: 'scsi', dev: 'sda', root: VDA },
  { scenario: scenario('s390x', { properties: { hw_architecture: 's390x' } }), device: 'cdrom', bus: 'scsi', dev: 'sda', root: VDA },
  { scenario: scenario('hw_cdrom_bus=virtio', { properties: { hw_cdrom_bus: 'virtio' } }), device: 'cdrom', bus: 'virtio', dev: 'vdb', root: VDA },
  { scenario: scenario('hw_disk_bus=ide', { properties: { hw_disk_bus: 'ide' } }), device: 'cdrom', bus: 'ide', dev: 'hdb', root: { bus: 'ide', dev: 'hda' } },
  { scenario: scenario('vfat', { configDrive: 'vfat' }), device: 'disk', bus: 'virtio', dev: 'vdb', root: VDA },
  { scenario: scenario('vfat + swap + ephemeral', { configDrive: 'vfat', swapMb: 512, ephemeralGb: 1 }), device: 'disk', bus: 'virtio', dev: 'vdd', root: VDA },
  { scenario: scenario('vfat + hw_disk_bus=scsi', { configDrive: 'vfat', properties: { hw_disk_bus: 'scsi' } }), device: 'disk', bus: 'scsi', dev: 'sdb', root: { bus: 'scsi', dev: 'sda' } },
];

/** Beyond the table: Nova must agree on these too, including where it refuses. */
export const EDGES: AttachScenario[] = [
  scenario('no config drive', { configDrive: null, ephemeralGb: 1 }),
  scenario('iso9660 + swap + ephemeral', { swapMb: 1, ephemeralGb: 1 }),
  scenario('versioned q35 machine type', { properties: { hw_machine_type: 'pc-q35-7.2' } }),
  scenario('i440fx machine type', { properties: { hw_machine_type: 'pc-i440fx-7.2' } }),
  scenario('q35 configured for another arch only', { machineTypes: ['aarch64=q35'] }),
  scenario('first hw_machine_type entry for an arch wins', { machineTypes: ['x86_64=q35', 'x86_64=pc'] }),
  scenario('image hw_machine_type over the configured one', { machineTypes: ['x86_64=q35'], properties: { hw_machine_type: 'pc' } }),
  scenario('hw_architecture amd64 is x86_64', { hostArch: 'aarch64', properties: { hw_architecture: 'amd64' } }),
  scenario('i686 guest', { properties: { hw_architecture: 'i686' } }),
  scenario('aarch64 with hw_cdrom_bus=sata', { properties: { hw_architecture: 'aarch64', hw_cdrom_bus: 'sata' } }),
  scenario('disk_prefix sd', { diskPrefix: 'sd', ephemeralGb: 1 }),
  scenario('disk_prefix sd, vfat', { diskPrefix: 'sd', configDrive: 'vfat' }),
  scenario('root_device_name /dev/vdb', { rootDeviceName: '/dev/vdb', ephemeralGb: 1, configDrive: 'vfat' }),
  scenario('root_device_name sda on virtio', { rootDeviceName: 'sda', configDrive: 'vfat' }),
  scenario('ide with ephemeral, swap and cdrom: all four names', { properties: { hw_disk_bus: 'ide' }, ephemeralGb: 1, swapMb: 1 }),
  scenario('hw_disk_bus=usb, vfat', { properties: { hw_disk_bus: 'usb' }, configDrive: 'vfat' }),
  scenario('hw_disk_bus=sata, vfat + ephemeral', { properties: { hw_disk_bus: 'sata' }, configDrive: 'vfat', ephemeralGb: 1 }),
  scenario('hw_disk_bus=fdc', { properties: { hw_disk_bus: 'fdc' } }),
  scenario('hw_cdrom_bus=ide on vfat (unused, still checked)', { properties: { hw_cdrom_bus: 'ide' }, configDrive: 'vfat' }),
];

/** Nova refuses these; we must too. */
export const REFUSED: AttachScenario[] = [
  scenario('hw_disk_bus=xen: a bus, not for kvm/qemu', { properties: { hw_disk_bus: 'xen' } }),
  scenario('hw_cdrom_bus=lxc', { properties: { hw_cdrom_bus: 'lxc' } }),
  scenario('hw_disk_bus=nvme: not a bus', { properties: { hw_disk_bus: 'nvme' } }),
  scenario('hw_architecture=z80', { properties: { hw_architecture: 'z80' } }),
];
