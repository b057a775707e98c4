import { decodeBody } from '../../src/bus/oslo-envelope.js';
import { spawnRequestFromPlainRequest } from '../../src/nova/plain-request.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { expectInvalid } from './expect-invalid.js';
import { FULL, MINIMAL } from './nova-scenarios.js';
import { documentedExample, MINIMAL_PLAIN, toPlain } from './plain-requests.js';

/** As the bus hands it over: a JSON body, recognised as a plain request. */
function decodePlain(request: unknown): SpawnRequest {
  const decoded = decodeBody(Buffer.from(JSON.stringify(request)), 'application/json');
  if (decoded.kind !== 'plain') throw new Error(`expected a plain request, got ${decoded.kind}`);
  return spawnRequestFromPlainRequest(decoded.request);
}

const UUID = MINIMAL_PLAIN.uuid;

describe('plain spawn requests', () => {
  test('the complete example of docs/spawn-request.md', () => {
    const request = decodePlain(documentedExample());
    expect(request).toEqual({
      instance: {
        uuid: UUID,
        id: 42,
        hostname: 'web-1',
        display_name: 'web-1',
        user_data: Buffer.from('#cloud-config\npackages: [nginx]\n'),
        key_name: 'alice-key',
        key_data: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfJ6zY0k4Qx alice@laptop',
        keypairs: [{ name: 'alice-key', type: 'ssh', public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfJ6zY0k4Qx alice@laptop' }],
        metadata: { role: 'web' },
        system_metadata: { image_os_distro: 'debian' },
        availability_zone: 'az-1',
        launch_index: 0,
        project_id: '4d7e1f0a9b8c4d3e8f7a6b5c4d3e2f1a',
        user_id: '8c2bd6a9e2b84d8b8a3f0d1c2b3a4f5e',
        reservation_id: 'r-3fhpjulh',
        config_drive: 'True',
        launched_at: null,
        flavor: { name: 'm1.small', flavorid: '2', vcpus: 2, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0, extra_specs: { 'hw:cpu_policy': 'dedicated' } },
        network_info: [
          {
            id: '1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6',
            address: 'fa:16:3e:12:34:56',
            type: 'ovs',
            devname: 'tap1e2d3c4b-5a',
            vnic_type: 'normal',
            active: true,
            delegate_create: false,
            preserve_on_delete: false,
            details: { port_filter: true },
            meta: {},
            network: {
              id: 'a5f1c9e0-1b2c-4d3e-8f9a-0b1c2d3e4f5a',
              bridge: 'br-int',
              label: 'private',
              meta: { mtu: 1450 },
              subnets: [
                {
                  cidr: '10.0.0.0/24',
                  version: 4,
                  gateway: { address: '10.0.0.1' },
                  dns: [{ address: '10.0.0.2' }],
                  routes: [],
                  ips: [{ address: '10.0.0.5', type: 'fixed', version: 4, floating_ips: [{ address: '203.0.113.7' }] }],
                  meta: { dhcp_server: '10.0.0.2' },
                },
                {
                  cidr: 'fd00:1::/64',
                  version: 6,
                  gateway: { address: 'fd00:1::1' },
                  dns: [],
                  routes: [],
                  ips: [{ address: 'fd00:1::5', type: 'fixed', version: 6, floating_ips: [] }],
                  meta: { ipv6_address_mode: 'slaac' },
                },
              ],
            },
          },
        ],
        kernel_id: null,
        ramdisk_id: null,
        image_ref: '0b6f4d0e-4bb8-4f7a-9b47-7d2f6c5e9a01',
        root_device_name: '/dev/vda',
        device_metadata: [
          { type: 'nic', bus: 'pci', address: '0000:00:03.0', mac: 'fa:16:3e:12:34:56', tags: ['frontend'] },
          { type: 'disk', bus: 'scsi', address: '0:0:1:0', serial: 'vol-1', path: '/dev/sdb', tags: ['db'] },
        ],
        dedicated_cpus: [0, 1],
      },
      image: {
        id: '0b6f4d0e-4bb8-4f7a-9b47-7d2f6c5e9a01',
        name: 'debian-12',
        disk_format: 'qcow2',
        container_format: 'bare',
        size: 468713472,
        checksum: '9a0364b9e99bb480dd25e1f0284c8555',
        os_hash_algo: 'sha512',
        os_hash_value: null,
        properties: { hw_machine_type: 'q35', hw_disk_bus: 'virtio', img_config_drive: 'optional' },
      },
      admin_password: 'correct horse battery staple',
      injected_files: [{ path: '/etc/motd', contents: Buffer.from('Welcome to web-1\n') }],
      security_groups: ['default', 'web'],
      context: {
        request_id: 'req-2b1f7c0e-6d8a-4b1e-9c3d-5e7f9a1b2c3d',
        user_id: '8c2bd6a9e2b84d8b8a3f0d1c2b3a4f5e',
        project_id: '4d7e1f0a9b8c4d3e8f7a6b5c4d3e2f1a',
        auth_token: null,
        global_request_id: null,
      },
    } satisfies SpawnRequest);
  });

  test('only the required fields: the rest as Nova\'s API would fill them', () => {
    expect(decodePlain(MINIMAL_PLAIN)).toEqual({
      instance: {
        uuid: UUID,
        id: null,
        hostname: `server-${UUID}`,
        display_name: `Server ${UUID}`,
        user_data: null,
        key_name: null,
        key_data: null,
        keypairs: [],
        metadata: {},
        system_metadata: {},
        availability_zone: null,
        launch_index: 0,
        project_id: 'p-1',
        user_id: 'u-1',
        reservation_id: 'r-3f8c2f4e',
        config_drive: '',
        launched_at: null,
        flavor: { name: 'm1.tiny', flavorid: '1', vcpus: 1, memory_mb: 512, root_gb: 0, ephemeral_gb: 0, swap: 0, extra_specs: {} },
        network_info: [],
        kernel_id: null,
        ramdisk_id: null,
        image_ref: null,
        root_device_name: null,
        device_metadata: [],
        dedicated_cpus: [],
      },
      image: { id: null, name: null, disk_format: null, container_format: null, size: null, checksum: null, os_hash_algo: null, os_hash_value: null, properties: {} },
      admin_password: null,
      injected_files: [],
      security_groups: ['default'],
      context: { request_id: null, user_id: 'u-1', project_id: 'p-1', auth_token: null, global_request_id: null },
    } satisfies SpawnRequest);
  });

  test.each([
    ['full', FULL],
    ['minimal', MINIMAL],
  ])("everything Nova's %s cast carries can be said in a plain request, and decodes the same", (_, request) => {
    expect(decodePlain(JSON.parse(JSON.stringify(toPlain(request))))).toEqual(request);
  });

  test('defaults that follow from other fields: hostname from name, kernel, ramdisk and image_ref from the image', () => {
    const request = decodePlain({
      ...MINIMAL_PLAIN,
      name: 'Web Server.01 ☃',
      image: { id: 'img-1', properties: { kernel_id: 'aki-1', ramdisk_id: 'ari-1' } },
    });
    expect(request.instance).toMatchObject({ display_name: 'Web Server.01 ☃', hostname: 'web-server-01', kernel_id: 'aki-1', ramdisk_id: 'ari-1', image_ref: 'img-1' });
  });

  test.each([
    [true, 'True'], ['yes', 'True'], ['1', 'True'], ['ON', 'True'], [false, ''], ['no', ''], ['0', ''], ['', ''], [null, ''],
  ])('config_drive %j is %j', (value, expected) => {
    expect(decodePlain({ ...MINIMAL_PLAIN, config_drive: value }).instance.config_drive).toBe(expected);
  });

  test('user_data of exactly 65535 base64 characters is accepted (Nova counts the base64 text)', () => {
    // 16383 quanta and three line breaks, which b64decode skips.
    const text = `${'A'.repeat(65532)}\n\n\n`;
    expect(text.length).toBe(65535);
    expect(decodePlain({ ...MINIMAL_PLAIN, user_data: text }).instance.user_data).toHaveLength(49149);
  });

  const bad: [string, Record<string, unknown>, string, unknown][] = [
    ['format 2.0', { nova_spawnd: '2.0' }, 'nova_spawnd', '2.0'],
    ['format 1.1', { nova_spawnd: '1.1' }, 'nova_spawnd', '1.1'],
    ['format as a number', { nova_spawnd: 1 }, 'nova_spawnd', 1],
    ['an unknown field', { display_name: 'web-1' }, 'display_name', 'web-1'],
    ['no uuid', { uuid: undefined }, 'uuid', undefined],
    ['a bad uuid', { uuid: '3f8c2f4e5b7a4c1d9e2f0a1b2c3d4e5f' }, 'uuid', '3f8c2f4e5b7a4c1d9e2f0a1b2c3d4e5f'],
    ['no project', { project_id: undefined }, 'project_id', undefined],
    ['a bad hostname', { hostname: 'web_1.example' }, 'hostname', 'web_1.example'],
    ['a name with a lone surrogate', { name: 'web \udc00' }, 'name', 'web \udc00'],
    ['no flavor', { flavor: undefined }, 'flavor', undefined],
    ['a flavor without memory', { flavor: { name: 'f', flavorid: '1', vcpus: 1 } }, 'flavor.memory_mb', undefined],
    ['a flavor with 0 vcpus', { flavor: { ...MINIMAL_PLAIN.flavor, vcpus: 0 } }, 'flavor.vcpus', 0],
    ['a flavor with negative memory', { flavor: { ...MINIMAL_PLAIN.flavor, memory_mb: -512 } }, 'flavor.memory_mb', -512],
    ['a flavor with negative ephemeral disk', { flavor: { ...MINIMAL_PLAIN.flavor, ephemeral_gb: -1 } }, 'flavor.ephemeral_gb', -1],
    ['a flavor with an unknown field', { flavor: { ...MINIMAL_PLAIN.flavor, ram: 512 } }, 'flavor.ram', 512],
    ['an extra spec that is no string', { flavor: { ...MINIMAL_PLAIN.flavor, extra_specs: { 'hw:numa_nodes': 2 } } }, 'flavor.extra_specs["hw:numa_nodes"]', 2],
    ['user_data not base64', { user_data: 'I2Nsb3VkLWNvbmZpZw' }, 'user_data', 'I2Nsb3VkLWNvbmZpZw'],
    ['user_data over the limit', { user_data: 'QUJD'.repeat(16384) }, 'user_data', 'QUJD'.repeat(16384)],
    ['a file path that is relative', { files: [{ path: '/ok', contents_base64: '' }, { path: 'etc/motd', contents_base64: '' }] }, 'files[1].path', 'etc/motd'],
    ['a file path with ..', { files: [{ path: '/var/../../etc/shadow', contents_base64: '' }] }, 'files[0].path', '/var/../../etc/shadow'],
    ['a file path that is just ..', { files: [{ path: '/..', contents_base64: '' }] }, 'files[0].path', '/..'],
    ['a file path with NUL', { files: [{ path: '/etc/motd\u0000.bak', contents_base64: '' }] }, 'files[0].path', '/etc/motd\u0000.bak'],
    ['file contents not base64', { files: [{ path: '/etc/motd', contents_base64: 'a' }] }, 'files[0].contents_base64', 'a'],
    ['a file without contents', { files: [{ path: '/etc/motd' }] }, 'files[0].contents_base64', undefined],
    ['a file with an unknown field', { files: [{ path: '/etc/motd', contents: 'hi' }] }, 'files[0].contents', 'hi'],
    ['config_drive unknown', { config_drive: 'always' }, 'config_drive', 'always'],
    ['config_drive a number', { config_drive: 1 }, 'config_drive', 1],
    ['a keypair of unknown type', { keypairs: [{ name: 'k', type: 'rsa', public_key: 'ssh-rsa AAAA' }] }, 'keypairs[0].type', 'rsa'],
    ['a keypair without key', { keypairs: [{ name: 'k' }] }, 'keypairs[0].public_key', undefined],
    ['meta with a number', { meta: { port: 80 } }, 'meta["port"]', 80],
    ['launched_at not ISO 8601', { launched_at: '01/05/2024' }, 'launched_at', '01/05/2024'],
    ['launch_index a string', { launch_index: '0' }, 'launch_index', '0'],
    ['id a string', { id: '42' }, 'id', '42'],
    ['image null', { image: null }, 'image', null],
    ['image with an unknown field', { image: { id: 'i', status: 'active' } }, 'image.status', 'active'],
    ['an image property that is no string', { image: { properties: { hw_video_ram: 64 } } }, 'image.properties["hw_video_ram"]', 64],
    ['network_info not a list', { network_info: {} }, 'network_info', {}],
    ['a VIF without id', { network_info: [{ address: 'fa:16:3e:00:00:01', type: 'ovs', network: { id: 'n' } }] }, 'network_info[0].id', undefined],
    [
      'a DNS server that is no IP',
      { network_info: [{ id: 'v', address: 'fa:16:3e:00:00:01', type: 'ovs', network: { id: 'n', subnets: [{ cidr: '10.0.0.0/24', dns: [{ address: 'dns.example' }] }] } }] },
      'network_info[0].network.subnets[0].dns[0].address',
      'dns.example',
    ],
    ['a device of unknown type', { device_metadata: [{ type: 'gpu', bus: 'pci', address: '0000:00:05.0' }] }, 'device_metadata[0].type', 'gpu'],
    ['a device on an unknown bus', { device_metadata: [{ type: 'disk', bus: 'sata' }] }, 'device_metadata[0].bus', 'sata'],
    ['a NIC without MAC', { device_metadata: [{ type: 'nic', bus: 'pci', address: '0000:00:03.0', tags: ['a'] }] }, 'device_metadata[0].mac', undefined],
    ['a disk with a MAC', { device_metadata: [{ type: 'disk', mac: 'fa:16:3e:00:00:01' }] }, 'device_metadata[0].mac', 'fa:16:3e:00:00:01'],
    ['a negative dedicated CPU', { dedicated_cpus: [0, -1] }, 'dedicated_cpus', [0, -1]],
    ['a dedicated CPU that is no number', { dedicated_cpus: ['0'] }, 'dedicated_cpus[0]', '0'],
    ['a security group that is no name', { security_groups: [{ name: 'default' }] }, 'security_groups[0]', { name: 'default' }],
    ['context with an unknown field', { context: { tenant: 'p-1' } }, 'context.tenant', 'p-1'],
    ['context request_id a number', { context: { request_id: 5 } }, 'context.request_id', 5],
  ];

  test.each(bad)('%s', (_, change, field, value) => {
    expectInvalid(() => decodePlain({ ...MINIMAL_PLAIN, ...change }), field, value);
  });

  test('no format version (the bus would not have taken it for a plain request)', () => {
    const { nova_spawnd: _, ...unversioned } = MINIMAL_PLAIN;
    expectInvalid(() => spawnRequestFromPlainRequest(unversioned), 'nova_spawnd', undefined);
  });

  test('not an object at all', () => {
    const error = expectInvalid(() => spawnRequestFromPlainRequest(['nova_spawnd']), '', ['nova_spawnd']);
    expect(error.message).toContain('the request must be an object');
  });
});
