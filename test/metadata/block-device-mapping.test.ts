import { instanceBlockMapping, NO_BLOCK_DEVICES, type BlockDeviceMapping } from '../../src/metadata/block-device-mapping.js';
import { FULL_BLOCK_DEVICES } from './fixtures.js';

const volume = (device_name: string | null): BlockDeviceMapping => ({
  source_type: 'volume',
  destination_type: 'volume',
  guest_format: null,
  device_name,
});
const blank = (device_name: string, guest_format: string | null = null): BlockDeviceMapping => ({
  source_type: 'blank',
  destination_type: 'local',
  guest_format,
  device_name,
});

describe('EC2 block-device-mapping (block_device.instance_block_mapping)', () => {
  test('no root device name: Nova\'s fixed defaults', () => {
    expect(instanceBlockMapping(null, FULL_BLOCK_DEVICES)).toEqual({ ami: 'sda1', ephemeral0: 'sda2', root: '/dev/sda1', swap: 'sda3' });
    expect(Object.keys(instanceBlockMapping(null, NO_BLOCK_DEVICES))).toEqual(['ami', 'ephemeral0', 'root', 'swap']);
  });

  test('root only', () => {
    expect(instanceBlockMapping('/dev/vda', NO_BLOCK_DEVICES)).toEqual({ ami: 'vda', root: '/dev/vda' });
  });

  test('defaults first, volumes sorted (unnamed first), the last swap, ephemerals in order', () => {
    const mapping = instanceBlockMapping('/dev/sda', {
      default_ephemeral_device: '/dev/sdb',
      default_swap_device: null,
      block_device_mapping: [volume('/dev/sdz'), blank('/dev/sdc'), volume(null), blank('/dev/sdd', 'swap'), blank('/dev/sde', 'swap'), volume('/dev/sdf'), blank('/dev/sdg', 'ext4')],
    });
    expect(Object.entries(mapping)).toEqual([
      ['ami', 'sda'],
      ['root', '/dev/sda'],
      ['ephemeral0', '/dev/sdc'],
      ['ebs0', null],
      ['ebs1', '/dev/sdf'],
      ['ebs2', '/dev/sdz'],
      ['swap', '/dev/sde'],
      ['ephemeral1', '/dev/sdg'],
    ]);
  });
});
