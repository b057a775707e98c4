import { ec2MetaData, ec2MetaDataJson, type Ec2Source } from '../../src/metadata/ec2-meta-data.js';
import { ec2IpInfo } from '../../src/metadata/network-data.js';
import { EC2_VERSIONS } from '../../src/metadata/versions.js';
import type { Instance } from '../../src/nova/spawn-request.js';
import { fullInstance, KEY } from './fixtures.js';

function source(instance: Instance = fullInstance(), fields: Partial<Ec2Source> = {}): Ec2Source {
  return {
    instance,
    hostname: 'web-01.novalocal',
    ec2Ids: { instance_id: 'i-0000002a', ami_id: 'ami-00000001', kernel_id: 'aki-00000002', ramdisk_id: null },
    ipInfo: ec2IpInfo(instance.network_info),
    security_groups: ['default'],
    block_device_mapping: { ami: 'vda', root: '/dev/vda' },
    ...fields,
  };
}

const BASE = ['ami-id', 'ami-launch-index', 'ami-manifest-path', 'instance-id', 'hostname', 'local-ipv4', 'reservation-id', 'security-groups', 'public-keys'];
const V2007_01_19 = [...BASE, 'local-hostname', 'public-hostname', 'public-ipv4'];
const V2007_08_29 = [...V2007_01_19, 'instance-type'];
const V2007_12_15 = [...V2007_08_29, 'block-device-mapping', 'kernel-id'];
const KEYS_BY_VERSION = [
  ['1.0', BASE],
  ['2007-01-19', V2007_01_19],
  ['2007-03-01', V2007_01_19],
  ['2007-08-29', V2007_08_29],
  ['2007-10-10', V2007_08_29],
  ['2007-12-15', V2007_12_15],
  ['2008-02-01', [...V2007_12_15, 'placement']],
  ['2008-09-01', [...V2007_12_15, 'placement', 'instance-action']],
  ['2009-04-04', [...V2007_12_15, 'placement', 'instance-action']],
] as const;

describe('EC2 meta-data by version', () => {
  test('the table covers every version', () => {
    expect(KEYS_BY_VERSION.map(([version]) => version)).toEqual(EC2_VERSIONS);
  });

  test.each(KEYS_BY_VERSION)('%s', (version, keys) => {
    expect(Object.keys(ec2MetaData(source(), version))).toEqual(keys);
  });

  test('values: first fixed IPv4, first floating IP, key with its listing name, placement', () => {
    const metaData = ec2MetaData(source(), '2009-04-04');
    expect(metaData).toMatchObject({
      'ami-id': 'ami-00000001',
      'ami-launch-index': 0,
      'ami-manifest-path': 'FIXME',
      'instance-id': 'i-0000002a',
      'local-ipv4': '10.0.0.5',
      'public-ipv4': '203.0.113.10',
      'reservation-id': 'r-3fhuh0ko',
      'security-groups': ['default'],
      'public-keys': { '0': { _name: '0=alice', 'openssh-key': KEY } },
      'instance-type': 'm1.small',
      'kernel-id': 'aki-00000002',
      placement: { 'availability-zone': 'az-1' },
      'instance-action': 'none',
    });
  });

  test('without network, key or kernel: local-ipv4 null, public-ipv4 empty, no public-keys or kernel-id', () => {
    const instance = fullInstance({ network_info: [], key_name: null });
    const metaData = ec2MetaData(
      source(instance, { ec2Ids: { instance_id: 'i-1', ami_id: null, kernel_id: null, ramdisk_id: 'ari-00000003' } }),
      '2009-04-04',
    );
    expect(metaData['local-ipv4']).toBeNull();
    expect(metaData['public-ipv4']).toBe('');
    expect(metaData['ami-id']).toBeNull();
    expect(Object.keys(metaData)).not.toContain('public-keys');
    expect(Object.keys(metaData)).not.toContain('kernel-id');
    expect(metaData['ramdisk-id']).toBe('ari-00000003');
  });

  test('the drive file keeps "_name", as Nova writes it', () => {
    const text = Buffer.from(ec2MetaDataJson(ec2MetaData(source(), '1.0'))).toString();
    expect(text).toContain(`"public-keys": {"0": {"_name": "0=alice", "openssh-key": "${KEY}"}}`);
  });
});
