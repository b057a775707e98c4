/**
 * EC2's block-device-mapping (nova/block_device.py instance_block_mapping): device names the guest sees,
 * keyed ami/root/ephemeralN/swap/ebsN.
 */

/** The fields of nova.objects.BlockDeviceMapping that the mapping reads. */
export interface BlockDeviceMapping {
  source_type: 'image' | 'volume' | 'snapshot' | 'blank';
  destination_type: 'local' | 'volume' | null;
  guest_format: string | null;
  device_name: string | null;
}

/**
 * The instance's disks as the virt layer named them before the drive is built: the libvirt driver sets
 * instance.default_ephemeral_device / default_swap_device while it writes the guest config, and the
 * compute manager names each BDM's device_name.
 */
export interface BlockDevices {
  default_ephemeral_device: string | null;
  default_swap_device: string | null;
  block_device_mapping: readonly BlockDeviceMapping[];
}

export const NO_BLOCK_DEVICES: BlockDevices = {
  default_ephemeral_device: null,
  default_swap_device: null,
  block_device_mapping: [],
};

/** block_device._DEFAULT_MAPPINGS, for an instance without a root device name. */
const DEFAULT_MAPPINGS: Readonly<Record<string, string>> = {
  ami: 'sda1',
  ephemeral0: 'sda2',
  root: '/dev/sda1',
  swap: 'sda3',
};

export function stripDev(deviceName: string): string {
  return deviceName.replace(/^\/dev\//, '');
}

/** instance_block_mapping(instance, bdms); key order as Nova inserts them (re-set keys keep their place). */
export function instanceBlockMapping(
  rootDeviceName: string | null,
  devices: BlockDevices,
): Record<string, string | null> {
  if (rootDeviceName === null) return { ...DEFAULT_MAPPINGS };
  const mappings: Record<string, string | null> = { ami: stripDev(rootDeviceName), root: rootDeviceName };
  if (devices.default_ephemeral_device) mappings['ephemeral0'] = devices.default_ephemeral_device;
  if (devices.default_swap_device) mappings['swap'] = devices.default_swap_device;

  const bdms = devices.block_device_mapping;
  const ebsDevices = bdms.filter((bdm) => bdm.destination_type === 'volume').map((bdm) => bdm.device_name);
  const blanks = bdms.filter((bdm) => bdm.destination_type !== 'volume' && bdm.source_type === 'blank');

  // Nova sorts with key (x is not None, x): unnamed volumes first, then by name.
  ebsDevices.sort((a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
  ebsDevices.forEach((device, index) => {
    mappings[`ebs${index}`] = device;
  });

  const swaps = blanks.filter((bdm) => bdm.guest_format === 'swap');
  if (swaps.length > 0) mappings['swap'] = swaps[swaps.length - 1]!.device_name;
  blanks
    .filter((bdm) => bdm.guest_format !== 'swap')
    .forEach((bdm, index) => {
      mappings[`ephemeral${index}`] = bdm.device_name;
    });
  return mappings;
}
