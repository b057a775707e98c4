import { ConfigError } from '../../src/config/config-error.js';
import { connectionUri } from '../../src/virt/connection-uri.js';
import { InvalidImageProperty } from '../../src/virt/errors/invalid-image-property.js';
import { MissingDiskImage } from '../../src/virt/errors/missing-disk-image.js';
import { instanceName } from '../../src/virt/instance-name.js';
import { deviceNames, planGuest } from '../../src/virt/plan-guest.js';
import { guestPlatform, machineTypesByArch } from '../../src/virt/platform.js';
import { readVirtOptions } from '../../src/virt/virt-options.js';
import { guestRequest, spawnRequest, virtOptions } from './fixtures.js';

describe('machine type', () => {
  const platform = (properties: Record<string, string>, arch: 'x86_64' | 'aarch64' = 'x86_64', entries: string[] = []) =>
    guestPlatform({ properties }, { arch, machineTypes: machineTypesByArch(entries) });

  test("Nova's defaults per architecture: pc on x86, virt on ARM, pseries, s390-ccw-virtio; none for plain ppc64", () => {
    expect(platform({})).toEqual({ arch: 'x86_64', machineType: 'pc' });
    expect(platform({}, 'aarch64')).toEqual({ arch: 'aarch64', machineType: 'virt' });
    expect(['i686', 'armv7l', 'ppc64le', 's390', 's390x', 'ppc64'].map((arch) => platform({ hw_architecture: arch }).machineType)).toEqual([
      'pc',
      'virt',
      'pseries',
      's390-ccw-virtio',
      's390-ccw-virtio',
      null,
    ]);
  });

  test('[libvirt] hw_machine_type for the guest arch, then the image property over both', () => {
    expect(platform({}, 'x86_64', ['aarch64=virt-7.2', 'x86_64=q35']).machineType).toBe('q35');
    expect(platform({ hw_architecture: 'aarch64' }, 'x86_64', ['aarch64=virt-7.2']).machineType).toBe('virt-7.2');
    expect(platform({ hw_machine_type: 'pc-i440fx-7.2' }, 'x86_64', ['x86_64=q35']).machineType).toBe('pc-i440fx-7.2');
  });

  test('an unknown hw_architecture is refused, naming it', () => {
    expect(() => platform({ hw_architecture: 'vax' })).toThrow(InvalidImageProperty);
    expect(() => platform({ hw_architecture: 'vax' })).toThrow('image property hw_architecture = "vax" is not an architecture Nova knows');
  });
});

describe('disk cache mode', () => {
  const caches = (options = virtOptions()) =>
    planGuest(guestRequest({ options })).guest.disks.map((disk) => disk.driverCache);

  test('"none" where instances_path takes O_DIRECT, else "writeback"', () => {
    expect(caches()).toEqual(['none', 'none']);
    expect(caches(virtOptions({ default_cachemode: 'writeback' }))).toEqual(['writeback', 'writeback']);
  });

  test('[libvirt] disk_cachemodes "file=" decides for our file-backed disks; "block=" does not', () => {
    expect(caches(virtOptions({ disk_cachemodes: new Map([['file', 'directsync']]) }))).toEqual(['directsync', 'directsync']);
    expect(caches(virtOptions({ disk_cachemodes: new Map([['block', 'unsafe']]) }))).toEqual(['none', 'none']);
  });
});

describe('planGuest', () => {
  test('a flavor with ephemeral or swap needs their images', () => {
    const flavor = { ...spawnRequest().instance.flavor, ephemeral_gb: 5 };
    const request = guestRequest({ request: spawnRequest({ flavor }) });
    expect(() => planGuest(request)).toThrow(new MissingDiskImage('disk.local', 'flavor.ephemeral_gb = 5'));
    expect(() => planGuest(request)).toThrow('no image given for disk.local (flavor.ephemeral_gb = 5)');
    const swap = guestRequest({ request: spawnRequest({ flavor: { ...flavor, ephemeral_gb: 0, swap: 512 } }) });
    expect(() => planGuest(swap)).toThrow('no image given for disk.swap (flavor.swap = 512)');
  });

  test('the disk mapping comes along, and the device names Nova records on the instance', () => {
    const flavor = { ...spawnRequest().instance.flavor, ephemeral_gb: 1, swap: 1 };
    const disk = { path: '/x', format: 'raw' } as const;
    const { diskInfo } = planGuest(
      guestRequest({ request: spawnRequest({ flavor }), images: { disk, 'disk.local': disk, 'disk.swap': disk }, configDrive: 'vfat' }),
    );
    expect(diskInfo.mapping['disk.config']).toEqual({ bus: 'virtio', dev: 'vdd', type: 'disk' });
    expect(deviceNames(diskInfo.mapping)).toEqual({
      root_device_name: '/dev/vda',
      default_ephemeral_device: '/dev/vdb',
      default_swap_device: '/dev/vdc',
    });
    expect(deviceNames(planGuest(guestRequest()).diskInfo.mapping)).toEqual({
      root_device_name: '/dev/vda',
      default_ephemeral_device: null,
      default_swap_device: null,
    });
  });

  test('direct kernel boot on kvm: no no_timer_check; the root device follows the mapping', () => {
    const { guest } = planGuest(
      guestRequest({
        request: spawnRequest({}, { hw_disk_bus: 'scsi' }),
        options: virtOptions({ virt_type: 'kvm' }),
        kernel: { kernel: '/k', ramdisk: null },
      }),
    );
    expect(guest.os.boot).toEqual({ kernel: '/k', initrd: null, cmdline: 'root=/dev/sda console=tty0 console=ttyS0 console=hvc0' });
  });

  test('an invalid hw_scsi_model or hw_vif_model is refused, naming it', () => {
    expect(() => planGuest(guestRequest({ request: spawnRequest({}, { hw_scsi_model: 'megasas' }) }))).toThrow(
      'image property hw_scsi_model = "megasas" is not a SCSI controller model',
    );
    expect(() => planGuest(guestRequest({ request: spawnRequest({}, { hw_vif_model: 'virtio-net' }) }))).toThrow(
      'image property hw_vif_model = "virtio-net" is not a NIC model kvm or qemu supports',
    );
  });
});

test('instance names: instance-%08x of the id, instance-<uuid> without one', () => {
  expect(instanceName({ id: 42, uuid: 'u' })).toBe('instance-0000002a');
  expect(instanceName({ id: 0x1234abcdef, uuid: 'u' })).toBe('instance-1234abcdef');
  expect(instanceName({ id: null, uuid: '6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b' })).toBe('instance-6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b');
});

test("connection URI: [libvirt] connection_uri, else Nova's per virt_type", () => {
  expect(connectionUri({ connection_uri: '', virt_type: 'kvm' })).toBe('qemu:///system');
  expect(connectionUri({ connection_uri: '', virt_type: 'qemu' })).toBe('qemu:///system');
  expect(connectionUri({ connection_uri: '', virt_type: 'lxc' })).toBe('lxc:///');
  expect(connectionUri({ connection_uri: '', virt_type: 'parallels' })).toBe('parallels:///system');
  expect(connectionUri({ connection_uri: 'test:///default', virt_type: 'kvm' })).toBe('test:///default');
});

describe('readVirtOptions', () => {
  const config = (libvirt: Partial<Parameters<typeof readVirtOptions>[0]['libvirt']> = {}) => ({
    DEFAULT: { instances_path: '/var/lib/nova/instances' } as Parameters<typeof readVirtOptions>[0]['DEFAULT'],
    libvirt: { virt_type: 'kvm' as const, connection_uri: '', hw_machine_type: [], disk_prefix: null, disk_cachemodes: [], wait_soft_reboot_seconds: 120, ...libvirt },
  });

  test('options and host facts, ready for planning', () => {
    const options = readVirtOptions(
      config({ hw_machine_type: ['x86_64=q35'], disk_cachemodes: ['file=directsync', 'block=none'], disk_prefix: 'sd' }),
      { arch: 'x86_64', directIo: false },
    );
    expect(options).toEqual({
      virt_type: 'kvm',
      instances_path: '/var/lib/nova/instances',
      host_arch: 'x86_64',
      machine_types: new Map([['x86_64', 'q35']]),
      disk_prefix: 'sd',
      disk_cachemodes: new Map([['file', 'directsync'], ['block', 'none']]),
      default_cachemode: 'writeback',
    });
  });

  test('lxc and parallels, and unknown cache modes, stop the daemon at start, each named', () => {
    let error: unknown;
    try {
      readVirtOptions(config({ virt_type: 'lxc', disk_cachemodes: ['file=fast', 'block=none'] }), { arch: 'x86_64', directIo: true });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { section: 'libvirt', option: 'virt_type', value: 'lxc', reason: 'nova-spawnd builds kvm and qemu guests only' },
      { section: 'libvirt', option: 'disk_cachemodes', value: 'file=fast', reason: expect.stringContaining('"fast" is not a cache mode') },
    ]);
  });
});
