import { metaDataJson, type MetaDataSource } from '../../src/metadata/meta-data.js';
import { OPENSTACK_VERSIONS, type OpenstackVersion } from '../../src/metadata/versions.js';
import type { DeviceMetadata, Instance } from '../../src/nova/spawn-request.js';
import { countingSeeds, fullInstance, KEY, MAC_1 } from './fixtures.js';

function source(instance: Instance = fullInstance(), fields: Partial<MetaDataSource> = {}): MetaDataSource {
  return {
    instance,
    hostname: 'web-01.novalocal',
    files: [{ path: '/etc/motd', content_path: '/content/0000' }],
    admin_pass: 'pw',
    network_config: null,
    ...fields,
  };
}

function document(version: OpenstackVersion, metaSource: MetaDataSource = source()): Record<string, unknown> {
  return JSON.parse(Buffer.from(metaDataJson(metaSource, version, countingSeeds().randomSeed)).toString()) as Record<string, unknown>;
}

const BASE_KEYS = ['uuid', 'meta', 'files', 'admin_pass', 'public_keys', 'keys', 'hostname', 'name', 'launch_index', 'availability_zone'];

const KEYS_BY_VERSION = [
  ['2012-08-10', BASE_KEYS],
  ['2013-04-04', [...BASE_KEYS, 'random_seed']],
  ['2013-10-17', [...BASE_KEYS, 'random_seed']],
  ['2015-10-15', [...BASE_KEYS, 'random_seed', 'project_id']],
  ['2016-06-30', [...BASE_KEYS, 'random_seed', 'project_id', 'devices']],
  ['2016-10-06', [...BASE_KEYS, 'random_seed', 'project_id', 'devices']],
  ['2017-02-22', [...BASE_KEYS, 'random_seed', 'project_id', 'devices']],
  ['2018-08-27', [...BASE_KEYS, 'random_seed', 'project_id', 'devices']],
  ['2020-10-14', [...BASE_KEYS, 'random_seed', 'project_id', 'devices', 'dedicated_cpus']],
] as const;

describe('meta_data.json keys by version', () => {
  test('the table covers every version', () => {
    expect(KEYS_BY_VERSION.map(([version]) => version)).toEqual(OPENSTACK_VERSIONS);
  });

  test.each(KEYS_BY_VERSION)('%s', (version, keys) => {
    expect(Object.keys(document(version))).toEqual(keys);
  });

  test('optional keys are left out when empty; network_config follows admin_pass', () => {
    const instance = fullInstance({ metadata: {}, key_name: null, keypairs: [] });
    const keys = Object.keys(
      document('2012-08-10', source(instance, { files: [], network_config: { name: 'network_config', content_path: '/content/0000' } })),
    );
    expect(keys).toEqual(['uuid', 'admin_pass', 'network_config', 'hostname', 'name', 'launch_index', 'availability_zone']);
    expect(Object.keys(document('2012-08-10', source(instance, { files: [], admin_pass: '' })))).not.toContain('admin_pass');
  });

  test('keys come from instance.keypairs[0] and only with a key name', () => {
    expect(document('2012-08-10')['public_keys']).toEqual({ alice: KEY });
    expect(document('2012-08-10')['keys']).toEqual([{ name: 'alice', type: 'ssh', data: KEY }]);
    const keyNameOnly = document('2012-08-10', source(fullInstance({ keypairs: [] })));
    expect(keyNameOnly['public_keys']).toBeUndefined();
    const noKeyName = document('2012-08-10', source(fullInstance({ key_name: null })));
    expect(noKeyName['keys']).toBeUndefined();
  });

  test('random_seed is base64 of one draw of 512 bytes', () => {
    const { randomSeed, seeds } = countingSeeds();
    const parsed = JSON.parse(Buffer.from(metaDataJson(source(), '2013-04-04', randomSeed)).toString()) as { random_seed: string };
    expect(seeds).toHaveLength(1);
    expect(Buffer.from(parsed.random_seed, 'base64')).toEqual(Buffer.from(seeds[0]!));
    metaDataJson(source(), '2012-08-10', randomSeed);
    expect(seeds).toHaveLength(1);
  });

  test('dedicated_cpus are sorted numerically', () => {
    expect(document('2020-10-14', source(fullInstance({ dedicated_cpus: [10, 2, 33, 1] })))['dedicated_cpus']).toEqual([1, 2, 10, 33]);
  });
});

describe('meta_data.json devices', () => {
  const devices: DeviceMetadata[] = [
    { type: 'nic', bus: 'pci', address: '0000:00:03.0', mac: MAC_1, tags: ['web'] },
    { type: 'nic', bus: 'pci', address: '0000:00:04.0', mac: 'fa:16:3e:00:00:04', vlan: 42, tags: [] },
    { type: 'nic', bus: 'pci', address: '0000:00:05.0', mac: 'fa:16:3e:00:00:05', tags: [] },
    { type: 'disk', bus: 'none', address: '0:0', serial: 'vol-1', tags: ['data'] },
  ];
  const instance = fullInstance({ device_metadata: devices });

  test('2016-06-30: untagged NICs are hidden, no vlan or vf_trusted yet; a bus-less disk has address none', () => {
    expect(document('2016-06-30', source(instance))['devices']).toEqual([
      { type: 'nic', mac: MAC_1, bus: 'pci', address: '0000:00:03.0', tags: ['web'] },
      { type: 'disk', serial: 'vol-1', bus: 'none', address: 'none', tags: ['data'] },
    ]);
  });

  test('2017-02-22: a VLAN makes an untagged NIC visible', () => {
    const listed = document('2017-02-22', source(instance))['devices'] as { mac?: string; vlan?: number }[];
    expect(listed.map((device) => device.mac ?? 'disk')).toEqual([MAC_1, 'fa:16:3e:00:00:04', 'disk']);
    expect(listed[1]!.vlan).toBe(42);
  });

  test('2018-08-27: vf_trusted is always written, so every NIC shows', () => {
    const listed = document('2018-08-27', source(instance))['devices'] as Record<string, unknown>[];
    expect(listed).toHaveLength(4);
    expect(Object.keys(listed[1]!)).toEqual(['vlan', 'vf_trusted', 'type', 'mac', 'bus', 'address']);
    expect(listed[2]!['vf_trusted']).toBe(false);
  });
});
