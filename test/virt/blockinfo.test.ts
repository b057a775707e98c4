import {
  configDriveType,
  diskBusForDeviceType,
  findDiskDevForDiskBus,
  generateDeviceName,
  getDiskInfo,
} from '../../src/virt/blockinfo.js';
import { InvalidImageProperty } from '../../src/virt/errors/invalid-image-property.js';
import { TooManyDiskDevices } from '../../src/virt/errors/too-many-disk-devices.js';
import { ourDiskInfo, REFUSED, scenario, TABLE } from './attach-scenarios.js';

describe('the config drive attach table', () => {
  test.each(TABLE.map((row) => [row.scenario.label, row] as const))('%s', (_label, row) => {
    const { mapping } = ourDiskInfo(row.scenario);
    expect(mapping['disk.config']).toEqual({ type: row.device, bus: row.bus, dev: row.dev });
    expect(mapping.root).toEqual({ ...row.root, type: 'disk', boot_index: '1' });
    expect(mapping.disk).toEqual(mapping.root);
  });
});

describe('disk mapping order', () => {
  test('root, then disk.local, then disk.swap, then the config drive', () => {
    const { mapping } = ourDiskInfo(scenario('all', { configDrive: 'vfat', ephemeralGb: 1, swapMb: 1 }));
    expect(Object.keys(mapping)).toEqual(['root', 'disk', 'disk.local', 'disk.swap', 'disk.config']);
    expect(['disk', 'disk.local', 'disk.swap', 'disk.config'].map((name) => mapping[name as keyof typeof mapping]?.dev)).toEqual([
      'vda',
      'vdb',
      'vdc',
      'vdd',
    ]);
  });

  test('a cdrom on IDE does not take a name from the virtio disks', () => {
    const { mapping } = ourDiskInfo(scenario('iso + swap + ephemeral', { ephemeralGb: 1, swapMb: 1 }));
    expect(mapping['disk.config']).toEqual({ type: 'cdrom', bus: 'ide', dev: 'hda' });
  });

  test('no drive, no disk.local, no disk.swap when the flavor and request have none', () => {
    expect(Object.keys(ourDiskInfo(scenario('bare', { configDrive: null })).mapping)).toEqual(['root', 'disk']);
  });

  test('an instance root_device_name is kept, and the others work around it', () => {
    const { mapping } = ourDiskInfo(scenario('vdb root', { rootDeviceName: '/dev/vdb', ephemeralGb: 1, configDrive: 'vfat' }));
    expect([mapping.root.dev, mapping['disk.local']?.dev, mapping['disk.config']?.dev]).toEqual(['vdb', 'vda', 'vdc']);
  });

  test('[libvirt] disk_prefix names every bus', () => {
    const { mapping } = ourDiskInfo(scenario('prefix', { diskPrefix: 'xvd' }));
    expect([mapping.root, mapping['disk.config']]).toEqual([
      { bus: 'virtio', dev: 'xvda', type: 'disk', boot_index: '1' },
      { bus: 'ide', dev: 'xvdb', type: 'cdrom' },
    ]);
  });

  test('IDE has four names: a fifth disk is refused, naming the disk and the bus', () => {
    const full = scenario('ide', { properties: { hw_disk_bus: 'ide' }, ephemeralGb: 1, swapMb: 1 });
    expect(ourDiskInfo(full).mapping['disk.config']?.dev).toBe('hdd');
    const mapping = ourDiskInfo(full).mapping;
    expect(() => findDiskDevForDiskBus(mapping, 'ide', null, 'volume')).toThrow(new TooManyDiskDevices('ide', 4, 'volume'));
    expect(() => findDiskDevForDiskBus(mapping, 'ide', null, 'volume')).toThrow('no free device name for volume on bus ide');
  });
});

describe('bus rules', () => {
  const x86 = { arch: 'x86_64', machineType: 'pc' } as const;

  test('a disk is virtio unless the image says otherwise', () => {
    expect(diskBusForDeviceType({ properties: {} }, { arch: 'aarch64', machineType: 'virt' }, 'disk')).toBe('virtio');
    expect(diskBusForDeviceType({ properties: { hw_disk_bus: 'sata' } }, x86, 'disk')).toBe('sata');
  });

  test('hw_cdrom_bus decides for cdroms, hw_disk_bus does not', () => {
    expect(diskBusForDeviceType({ properties: { hw_disk_bus: 'scsi' } }, x86, 'cdrom')).toBe('ide');
    expect(diskBusForDeviceType({ properties: { hw_cdrom_bus: 'usb' } }, x86, 'cdrom')).toBe('usb');
  });

  test('the architecture wins over a q35 machine type; without a machine type a cdrom is IDE', () => {
    expect(diskBusForDeviceType({ properties: {} }, { arch: 's390', machineType: 'q35' }, 'cdrom')).toBe('scsi');
    expect(diskBusForDeviceType({ properties: {} }, { arch: 'ppc', machineType: null }, 'cdrom')).toBe('scsi');
    expect(diskBusForDeviceType({ properties: {} }, { arch: 'mips', machineType: null }, 'cdrom')).toBe('ide');
  });

  test('iso9660 is a cdrom, vfat a disk', () => {
    expect([configDriveType('iso9660'), configDriveType('vfat')]).toEqual(['cdrom', 'disk']);
  });

  test.each(REFUSED.map((s) => [s.label, s] as const))('refused: %s', (_label, s) => {
    expect(() => ourDiskInfo(s)).toThrow(InvalidImageProperty);
  });

  test('the error names the property and the value', () => {
    expect(() => getDiskInfo({ ...baseInput(), image: { properties: { hw_cdrom_bus: 'xen' } } })).toThrow(
      'image property hw_cdrom_bus = "xen" is not a bus kvm or qemu supports (virtio, scsi, ide, usb, fdc, sata)',
    );
    expect(() => getDiskInfo({ ...baseInput(), image: { properties: { hw_disk_bus: 'nvme' } } })).toThrow(
      'image property hw_disk_bus = "nvme" is not a disk bus',
    );
  });
});

function baseInput(): Parameters<typeof getDiskInfo>[0] {
  return {
    image: { properties: {} },
    platform: { arch: 'x86_64', machineType: 'pc' },
    diskPrefix: null,
    ephemeralGb: 0,
    swapMb: 0,
    rootDeviceName: null,
    configDrive: 'iso9660',
  };
}

test('device names run a..z, then aa..zz, then aaa (block_device.generate_device_name)', () => {
  expect([0, 25, 26, 27, 51, 52, 701, 702].map((index) => generateDeviceName('vd', index))).toEqual([
    'vda', 'vdz', 'vdaa', 'vdab', 'vdaz', 'vdba', 'vdzz', 'vdaaa',
  ]);
});
