import { decodeBody, type OsloMessage } from '../../src/bus/oslo-envelope.js';
import { spawnRequestFromBuildAndRunInstance } from '../../src/nova/build-and-run-instance.js';
import { expectInvalid } from './expect-invalid.js';
import { FULL, IMAGE_UUID, INSTANCE_UUID, MINIMAL, OVS_VIF, PUBLIC_KEY, SRIOV_VIF } from './nova-scenarios.js';
import { novaWireBody } from './wire-bodies.js';

function openNovaBody(body: Buffer, contentType: string): OsloMessage {
  const decoded = decodeBody(body, contentType);
  if (decoded.kind !== 'oslo') throw new Error(`expected an oslo envelope, got ${decoded.kind}`);
  return decoded.message;
}

describe('build_and_run_instance cast by Nova itself (ComputeAPI + oslo.messaging rabbit driver)', () => {
  test.each([
    ['6.0', '6.0', true],
    ['victoria', '5.11', true],
    ['5.0', '5.0', false],
  ])('upgrade level %s: RPC %s decodes to every field of the instance', async (level, rpcVersion, hasAccelUuids) => {
    const wire = await novaWireBody('full', level);
    expect(wire).toMatchObject({ content_type: 'application/json', content_encoding: 'utf-8', delivery_mode: 2, exchange: 'nova', routing_key: 'compute.compute-1' });

    const message = openNovaBody(wire.body, wire.content_type);
    expect(message.method).toBe('build_and_run_instance');
    expect(message.version).toBe(rpcVersion);
    expect('accel_uuids' in message.args).toBe(hasAccelUuids);
    expect(spawnRequestFromBuildAndRunInstance(message)).toEqual(FULL);
  });

  test('a minimal instance: unset and null fields take the values Nova would read them as', async () => {
    const wire = await novaWireBody('minimal', '6.0');
    const message = openNovaBody(wire.body, wire.content_type);
    expect(message.args['instance']).toHaveProperty(['nova_object.changes']);
    expect(spawnRequestFromBuildAndRunInstance(message)).toEqual(MINIMAL);
  });
});

describe('build_and_run_instance edge cases Nova allows', () => {
  let message: OsloMessage;
  beforeAll(async () => {
    const wire = await novaWireBody('full', '6.0');
    message = openNovaBody(wire.body, wire.content_type);
  });

  /** A deep copy of the real cast with `change` applied to its args and instance data. */
  function changed(change: (args: Record<string, any>, instance: Record<string, any>) => void): OsloMessage {
    const copy = structuredClone(message);
    const args = copy.args as Record<string, any>;
    change(args, args['instance']['nova_object.data']);
    return copy;
  }

  test('network_info given as the VIF list itself, not a JSON string (NetworkInfo.hydrate takes both)', () => {
    const request = spawnRequestFromBuildAndRunInstance(
      changed((_, instance) => {
        const cache = instance['info_cache']['nova_object.data'];
        cache.network_info = JSON.parse(cache.network_info);
      }),
    );
    expect(request.instance.network_info).toEqual([OVS_VIF, SRIOV_VIF]);
  });

  test('no info cache, null network_info and no instance keypairs: empty', () => {
    expect(spawnRequestFromBuildAndRunInstance(changed((_, instance) => void delete instance['info_cache'])).instance.network_info).toEqual([]);
    const nullCache = changed((_, instance) => void (instance['info_cache']['nova_object.data'].network_info = null));
    expect(spawnRequestFromBuildAndRunInstance(nullCache).instance.network_info).toEqual([]);
    expect(spawnRequestFromBuildAndRunInstance(changed((_, instance) => void delete instance['keypairs'])).instance.keypairs).toEqual([]);
  });

  test('a KeyPair older than 1.2 has no type: ssh', () => {
    const request = spawnRequestFromBuildAndRunInstance(
      changed((_, instance) => {
        const keypair = instance['keypairs']['nova_object.data'].objects[0];
        keypair['nova_object.version'] = '1.1';
        delete keypair['nova_object.data'].type;
      }),
    );
    expect(request.instance.keypairs).toEqual([{ name: 'alice-key', type: 'ssh', public_key: PUBLIC_KEY }]);
  });

  test('InstanceNUMACell before 1.5: the cpuset of a dedicated cell is pinned, of a shared one not', () => {
    const request = spawnRequestFromBuildAndRunInstance(
      changed((_, instance) => {
        const [dedicated, shared] = instance['numa_topology']['nova_object.data'].cells;
        Object.assign(dedicated['nova_object.data'], { cpuset: [5, 4] });
        Object.assign(shared['nova_object.data'], { cpuset: [6, 7], cpu_policy: 'shared' });
        for (const cell of [dedicated, shared]) {
          cell['nova_object.version'] = '1.4';
          delete cell['nova_object.data'].pcpuset;
        }
      }),
    );
    expect(request.instance.dedicated_cpus).toEqual([4, 5]);
  });

  test('a device on a bus class the metadata code does not know is left out; a device without a bus is on bus "none"', () => {
    const request = spawnRequestFromBuildAndRunInstance(
      changed((_, instance) => {
        const [nic, disk] = instance['device_metadata']['nova_object.data'].devices;
        nic['nova_object.data'].bus['nova_object.name'] = 'FutureDeviceBus';
        delete disk['nova_object.data'].bus;
      }),
    );
    expect(request.instance.device_metadata).toEqual([
      { type: 'disk', bus: 'none', address: 'none', serial: 'vol-serial-1', path: '/dev/sdb', tags: ['db'] },
    ]);
  });

  test('image null, injected_files null, security_groups null: empty, as the compute manager reads them', () => {
    const request = spawnRequestFromBuildAndRunInstance(
      changed((args) => Object.assign(args, { image: null, injected_files: null, security_groups: null })),
    );
    expect(request.image).toEqual(MINIMAL.image);
    expect(request.injected_files).toEqual([]);
    expect(request.security_groups).toEqual([]);
  });

  test('a newer minor version of an object is read (fields are only added within a major)', () => {
    const request = spawnRequestFromBuildAndRunInstance(changed((args) => void (args['instance']['nova_object.version'] = '2.9')));
    expect(request.instance.uuid).toBe(INSTANCE_UUID);
  });

  test('launched_at in oslo isotime form is kept; other ISO 8601 forms become it', () => {
    const at = (value: string) => spawnRequestFromBuildAndRunInstance(changed((_, instance) => void (instance.launched_at = value))).instance.launched_at;
    expect(at('2024-05-01T12:00:00Z')).toBe('2024-05-01T12:00:00Z');
    expect(at('2024-05-01T14:00:00.123456+02:00')).toBe('2024-05-01T12:00:00Z');
    expect(at('2024-05-01T12:00:00')).toBe('2024-05-01T12:00:00Z');
  });

  const instancePath = (key: string) => `instance.${key}`;
  const cases: [string, (args: Record<string, any>, instance: Record<string, any>) => void, string, unknown][] = [
    ['no instance', (args) => void delete args['instance'], 'instance', undefined],
    ['instance not an object', (args) => void (args['instance'] = 'i-1'), 'instance', 'i-1'],
    ['not an Instance', (args) => void (args['instance']['nova_object.name'] = 'Migration'), 'instance.nova_object.name', 'Migration'],
    ['Instance 3.0', (args) => void (args['instance']['nova_object.version'] = '3.0'), 'instance.nova_object.version', '3.0'],
    ['Instance 1.23', (args) => void (args['instance']['nova_object.version'] = '1.23'), 'instance.nova_object.version', '1.23'],
    ['another namespace', (args) => void (args['instance']['nova_object.namespace'] = 'versionedobjects'), 'instance.nova_object.namespace', 'versionedobjects'],
    ['no data', (args) => void delete args['instance']['nova_object.data'], 'instance.nova_object.data', undefined],
    ['uuid not a uuid', (_, i) => void (i.uuid = 'not-a-uuid'), instancePath('uuid'), 'not-a-uuid'],
    ['uuid in capitals', (_, i) => void (i.uuid = INSTANCE_UUID.toUpperCase()), instancePath('uuid'), INSTANCE_UUID.toUpperCase()],
    ['uuid missing', (_, i) => void delete i.uuid, instancePath('uuid'), undefined],
    ['hostname with an underscore', (_, i) => void (i.hostname = 'web_1'), instancePath('hostname'), 'web_1'],
    ['hostname with a dot', (_, i) => void (i.hostname = 'web.example.com'), instancePath('hostname'), 'web.example.com'],
    ['hostname starting with -', (_, i) => void (i.hostname = '-web'), instancePath('hostname'), '-web'],
    ['hostname of 64 characters', (_, i) => void (i.hostname = 'a'.repeat(64)), instancePath('hostname'), 'a'.repeat(64)],
    ['hostname empty', (_, i) => void (i.hostname = ''), instancePath('hostname'), ''],
    ['hostname null', (_, i) => void (i.hostname = null), instancePath('hostname'), null],
    ['display_name with a lone surrogate', (_, i) => void (i.display_name = 'web \ud800'), instancePath('display_name'), 'web \ud800'],
    ['project_id missing', (_, i) => void delete i.project_id, instancePath('project_id'), undefined],
    ['user_data not base64 (padding)', (_, i) => void (i.user_data = 'abc'), instancePath('user_data'), 'abc'],
    ['user_data with one character too many', (_, i) => void (i.user_data = 'YWJjZ'), instancePath('user_data'), 'YWJjZ'],
    ['user_data not ASCII', (_, i) => void (i.user_data = 'aGk=é'), instancePath('user_data'), 'aGk=é'],
    ['user_data over 65535 base64 characters', (_, i) => void (i.user_data = 'A'.repeat(65536)), instancePath('user_data'), 'A'.repeat(65536)],
    ['user_data a number', (_, i) => void (i.user_data = 42), instancePath('user_data'), 42],
    ['config_drive "maybe"', (_, i) => void (i.config_drive = 'maybe'), instancePath('config_drive'), 'maybe'],
    ['config_drive an image id (pre-Liberty)', (_, i) => void (i.config_drive = IMAGE_UUID), instancePath('config_drive'), IMAGE_UUID],
    ['launched_at not a time', (_, i) => void (i.launched_at = 'yesterday'), instancePath('launched_at'), 'yesterday'],
    ['launch_index a string', (_, i) => void (i.launch_index = '0'), instancePath('launch_index'), '0'],
    ['metadata value a number', (_, i) => void (i.metadata.role = 7), 'instance.metadata["role"]', 7],
    ['metadata a list', (_, i) => void (i.metadata = ['role']), instancePath('metadata'), ['role']],
    ['no flavor', (_, i) => void delete i.flavor, instancePath('flavor'), undefined],
    ['flavor not a Flavor', (_, i) => void (i.flavor['nova_object.name'] = 'Instance'), 'instance.flavor.nova_object.name', 'Instance'],
    ['flavor with 0 MiB', (_, i) => void (i.flavor['nova_object.data'].memory_mb = 0), 'instance.flavor.memory_mb', 0],
    ['flavor with -1 vcpus', (_, i) => void (i.flavor['nova_object.data'].vcpus = -1), 'instance.flavor.vcpus', -1],
    ['flavor with negative swap', (_, i) => void (i.flavor['nova_object.data'].swap = -512), 'instance.flavor.swap', -512],
    ['flavor memory as a string', (_, i) => void (i.flavor['nova_object.data'].memory_mb = '4096'), 'instance.flavor.memory_mb', '4096'],
    ['flavor vcpus fractional', (_, i) => void (i.flavor['nova_object.data'].vcpus = 1.5), 'instance.flavor.vcpus', 1.5],
    ['keypair of an unknown type', (_, i) => void (i.keypairs['nova_object.data'].objects[0]['nova_object.data'].type = 'rsa'), 'instance.keypairs.objects[0].type', 'rsa'],
    ['keypair without a public key', (_, i) => void (i.keypairs['nova_object.data'].objects[0]['nova_object.data'].public_key = null), 'instance.keypairs.objects[0].public_key', null],
    ['network_info not JSON', (_, i) => void (i.info_cache['nova_object.data'].network_info = '[{"id": '), 'instance.info_cache.network_info', '[{"id": '],
    ['network_info an object', (_, i) => void (i.info_cache['nova_object.data'].network_info = '{}'), 'instance.info_cache.network_info', {}],
    [
      'a VIF without a network',
      (_, i) => void (i.info_cache['nova_object.data'].network_info = JSON.stringify([{ ...OVS_VIF, network: null }])),
      'instance.info_cache.network_info[0].network',
      null,
    ],
    [
      'a fixed IP that is no IP',
      (_, i) => {
        const vifs = JSON.parse(i.info_cache['nova_object.data'].network_info);
        vifs[0].network.subnets[1].ips[0].address = 'fd00:1::zz';
        i.info_cache['nova_object.data'].network_info = JSON.stringify(vifs);
      },
      'instance.info_cache.network_info[0].network.subnets[1].ips[0].address',
      'fd00:1::zz',
    ],
    [
      'a subnet CIDR with a prefix too long',
      (_, i) => {
        const vifs = JSON.parse(i.info_cache['nova_object.data'].network_info);
        vifs[0].network.subnets[0].cidr = '10.0.0.0/33';
        i.info_cache['nova_object.data'].network_info = JSON.stringify(vifs);
      },
      'instance.info_cache.network_info[0].network.subnets[0].cidr',
      '10.0.0.0/33',
    ],
    [
      'an IP version that contradicts the address',
      (_, i) => {
        const vifs = JSON.parse(i.info_cache['nova_object.data'].network_info);
        vifs[0].network.subnets[0].dns[1].version = 6;
        i.info_cache['nova_object.data'].network_info = JSON.stringify(vifs);
      },
      'instance.info_cache.network_info[0].network.subnets[0].dns[1].version',
      6,
    ],
    ['a negative dedicated CPU', (_, i) => void (i.numa_topology['nova_object.data'].cells[0]['nova_object.data'].pcpuset = [-1]), 'instance.numa_topology', [-1, 0, 2]],
    ['a NUMA cell that is not one', (_, i) => void (i.numa_topology['nova_object.data'].cells[1]['nova_object.name'] = 'NUMACell'), 'instance.numa_topology.cells[1].nova_object.name', 'NUMACell'],
    ['a tagged NIC without a MAC', (_, i) => void delete i.device_metadata['nova_object.data'].devices[0]['nova_object.data'].mac, 'instance.device_metadata.devices[0].mac', undefined],
    ['injected file path relative', (args) => void (args['injected_files'][1][0] = 'root/blob.bin'), 'injected_files[1].path', 'root/blob.bin'],
    ['injected file path climbing out', (args) => void (args['injected_files'][1][0] = '/etc/../../shadow'), 'injected_files[1].path', '/etc/../../shadow'],
    ['injected file path with a NUL', (args) => void (args['injected_files'][0][0] = '/etc/mo\u0000td'), 'injected_files[0].path', '/etc/mo\u0000td'],
    ['injected file path a directory', (args) => void (args['injected_files'][0][0] = '/etc/'), 'injected_files[0].path', '/etc/'],
    ['injected file contents not base64', (args) => void (args['injected_files'][0][1] = 'V2VsY29tZSE'), 'injected_files[0].contents', 'V2VsY29tZSE'],
    ['injected file not a pair', (args) => void (args['injected_files'][1] = ['/etc/motd']), 'injected_files[1]', ['/etc/motd']],
    ['injected files not a list', (args) => void (args['injected_files'] = '/etc/motd'), 'injected_files', '/etc/motd'],
    ['a security group that is no name', (args) => void (args['security_groups'] = ['default', 3]), 'security_groups[1]', 3],
    ['admin_password not a string', (args) => void (args['admin_password'] = 1234), 'admin_password', 1234],
    ['image properties not an object', (args) => void (args['image'].properties = 'hw_disk_bus=virtio'), 'image.properties', 'hw_disk_bus=virtio'],
    ['image size a string', (args) => void (args['image'].size = '468713472'), 'image.size', '468713472'],
  ];

  test.each(cases)('%s', (_, change, field, value) => {
    expectInvalid(() => spawnRequestFromBuildAndRunInstance(changed(change)), field, value);
  });

  test('a huge value is cut short in the message, not in the error', () => {
    const error = expectInvalid(
      () => spawnRequestFromBuildAndRunInstance(changed((_, i) => void (i.user_data = 'A'.repeat(65536)))),
      'instance.user_data',
      'A'.repeat(65536),
    );
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toContain('65538 characters');
  });

  test.each([
    ['method', { method: 'rebuild_instance' }, 'rebuild_instance'],
    ['version', { version: '7.0' }, '7.0'],
    ['version', { version: '4.22' }, '4.22'],
    ['version', { version: '6.2' }, '6.2'],
    ['version', { version: '5.14' }, '5.14'],
    ['version', { version: 'six' }, 'six'],
    ['_context_request_id', { context: { request_id: 17 } }, 17],
  ] as [string, Partial<OsloMessage>, unknown][])('%s %j is refused', (field, change, value) => {
    expectInvalid(() => spawnRequestFromBuildAndRunInstance({ ...message, ...change }), field, value);
  });

  test.each(['5.0', '5.11', '5.13', '6.0', '6.1', '6.0.1'])('compute RPC version %s is served', (version) => {
    expect(spawnRequestFromBuildAndRunInstance({ ...message, version }).instance.uuid).toBe(INSTANCE_UUID);
  });
});
