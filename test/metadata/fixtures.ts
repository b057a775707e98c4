/** Spawn requests shared by the metadata tests: a fully featured instance and a bare one. */
import type { Instance, SpawnRequest, Subnet, Vif } from '../../src/nova/spawn-request.js';
import type { BlockDevices } from '../../src/metadata/block-device-mapping.js';
import { DEFAULT_METADATA_OPTIONS, type MetadataOptions } from '../../src/metadata/options.js';

export const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr9cXHk2GqBXn8f1iV5fWkLJpG3vBq0hN5XcF1qYkZx alice@laptop';
export const USER_DATA = '#cloud-config\nruncmd:\n  - [touch, /var/tmp/nova-spawnd-was-here]\n';
export const MAC_1 = 'fa:16:3e:12:34:56';
export const MAC_2 = 'fa:16:3e:ab:cd:ef';

export function subnet(fields: Partial<Subnet> & Pick<Subnet, 'cidr' | 'version'>): Subnet {
  return { gateway: null, ips: [], dns: [], routes: [], meta: {}, ...fields };
}

export function fixedIp(address: string, floating: string[] = []): Subnet['ips'][number] {
  return {
    address,
    type: 'fixed',
    version: address.includes(':') ? 6 : 4,
    floating_ips: floating.map((floatingAddress) => ({ address: floatingAddress })),
  };
}

export function vif(fields: Partial<Vif> & { subnets: Subnet[]; networkMeta?: Record<string, unknown> }): Vif {
  const { subnets, networkMeta, ...rest } = fields;
  return {
    id: '5a1f1d2e-0000-4000-8000-000000000001',
    address: MAC_1,
    type: 'ovs',
    devname: 'tap5a1f1d2e-00',
    vnic_type: 'normal',
    network: {
      id: '9e8d7c6b-0000-4000-8000-0000000000aa',
      bridge: 'br-int',
      label: 'private',
      subnets,
      meta: networkMeta ?? { mtu: 1450 },
    },
    details: {},
    meta: {},
    active: true,
    delegate_create: false,
    preserve_on_delete: false,
    ...rest,
  };
}

/** VIF 1: OVS, IPv4 static with a floating IP and a host route + IPv6 SLAAC. */
export const STATIC_VIF = vif({
  subnets: [
    subnet({
      cidr: '10.0.0.0/24',
      version: 4,
      gateway: { address: '10.0.0.1' },
      ips: [fixedIp('10.0.0.5', ['203.0.113.10'])],
      dns: [{ address: '8.8.8.8' }, { address: '8.8.4.4' }],
      routes: [{ cidr: '192.168.128.0/17', gateway: { address: '10.0.0.254' } }],
      meta: {},
    }),
    subnet({
      cidr: '2001:db8:1::/64',
      version: 6,
      gateway: { address: 'fe80::1' },
      ips: [fixedIp('2001:db8:1:0:f816:3eff:fe12:3456')],
      dns: [{ address: '2001:4860:4860::8888' }],
      meta: { ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' },
    }),
  ],
});

/** VIF 2: Linux bridge, IPv4 over DHCP + IPv6 DHCPv6-stateful, no devname. */
export const DHCP_VIF = vif({
  id: '5a1f1d2e-0000-4000-8000-000000000002',
  address: MAC_2,
  type: 'bridge',
  devname: null,
  networkMeta: { mtu: 9000 },
  subnets: [
    subnet({
      cidr: '172.16.0.0/20',
      version: 4,
      gateway: { address: '172.16.0.1' },
      ips: [fixedIp('172.16.3.10')],
      dns: [{ address: '8.8.8.8' }, { address: '1.1.1.1' }],
      meta: { dhcp_server: '172.16.0.2' },
    }),
    subnet({
      cidr: '2001:db8:2::/64',
      version: 6,
      gateway: { address: '2001:db8:2::1' },
      ips: [fixedIp('2001:db8:2::10')],
      meta: { ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'dhcpv6-stateful', dhcp_server: '2001:db8:2::2' },
    }),
  ],
});

export function fullInstance(overrides: Partial<Instance> = {}): Instance {
  return {
    uuid: '6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
    id: 42,
    hostname: 'web-01',
    display_name: 'Web 01',
    user_data: Buffer.from(USER_DATA),
    key_name: 'alice',
    key_data: KEY,
    keypairs: [{ name: 'alice', type: 'ssh', public_key: KEY }],
    metadata: { role: 'web', tier: 'frontend' },
    system_metadata: { image_min_disk: '1' },
    availability_zone: 'az-1',
    launch_index: 0,
    project_id: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    user_id: 'bead0000bead0000bead0000bead0000',
    reservation_id: 'r-3fhuh0ko',
    config_drive: 'True',
    launched_at: null,
    flavor: {
      name: 'm1.small',
      flavorid: '2',
      vcpus: 1,
      memory_mb: 2048,
      root_gb: 20,
      ephemeral_gb: 0,
      swap: 0,
      extra_specs: {},
    },
    network_info: [STATIC_VIF, DHCP_VIF],
    kernel_id: null,
    ramdisk_id: null,
    image_ref: '1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d',
    root_device_name: '/dev/vda',
    device_metadata: [
      { type: 'nic', bus: 'pci', address: '0000:00:03.0', mac: MAC_1, tags: ['frontend'] },
      { type: 'disk', bus: 'scsi', address: '0:0:0:1', serial: 'vol-1234', tags: ['data'] },
    ],
    dedicated_cpus: [],
    ...overrides,
  };
}

export function fullRequest(overrides: Partial<Instance> = {}): SpawnRequest {
  return {
    instance: fullInstance(overrides),
    image: {
      id: '1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d',
      name: 'debian-12',
      disk_format: 'qcow2',
      container_format: 'bare',
      size: 1024,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      properties: {},
    },
    admin_password: 's3cr3t-P4ss',
    injected_files: [
      { path: '/etc/motd', contents: Buffer.from('Welcome to web-01\n') },
      { path: '/root/blob.bin', contents: Buffer.from([0, 1, 2, 0xfe, 0xff]) },
    ],
    security_groups: ['default', 'web'],
    context: { request_id: null, user_id: null, project_id: null, auth_token: null, global_request_id: null },
  };
}

/** No user data, key, metadata, network, files, password or root device name; booted from a volume. */
export function bareRequest(): SpawnRequest {
  const request = fullRequest({
    user_data: null,
    key_name: null,
    key_data: null,
    keypairs: [],
    metadata: {},
    network_info: [],
    image_ref: '',
    root_device_name: null,
    device_metadata: [],
    availability_zone: null,
  });
  return { ...request, admin_password: null, injected_files: [], security_groups: [] };
}

export const FULL_BLOCK_DEVICES: BlockDevices = {
  default_ephemeral_device: '/dev/vdb',
  default_swap_device: '/dev/vdc',
  block_device_mapping: [
    { source_type: 'image', destination_type: 'local', guest_format: null, device_name: '/dev/vda' },
    { source_type: 'blank', destination_type: 'local', guest_format: null, device_name: '/dev/vdb' },
    { source_type: 'blank', destination_type: 'local', guest_format: 'swap', device_name: '/dev/vdc' },
    { source_type: 'volume', destination_type: 'volume', guest_format: null, device_name: '/dev/vdd' },
  ],
};

/** Deterministic seeds: the n-th call returns 512 bytes of (n + i) mod 256. */
export function countingSeeds(): { randomSeed: () => Uint8Array; seeds: Uint8Array[] } {
  const seeds: Uint8Array[] = [];
  return {
    seeds,
    randomSeed: () => {
      // A plain loop: Uint8Array.from with a callback cost the spawn benchmark, which uses these seeds, ~0.1 ms a spawn.
      const seed = new Uint8Array(512);
      for (let i = 0; i < seed.length; i++) seed[i] = (seeds.length + i) % 256;
      seeds.push(seed);
      return seed;
    },
  };
}

export function testOptions(overrides: Partial<MetadataOptions> = {}): MetadataOptions {
  return { ...DEFAULT_METADATA_OPTIONS, randomSeed: countingSeeds().randomSeed, ...overrides };
}
