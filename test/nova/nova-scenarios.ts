/**
 * What test/helpers/nova_wire_body.py's scenarios carry, as the daemon must see them: the expected
 * SpawnRequest of Nova's "full" and "minimal" build_and_run_instance casts.
 */
import type { SpawnRequest, Vif } from '../../src/nova/spawn-request.js';

export const INSTANCE_UUID = '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10';
export const IMAGE_UUID = '0b6f4d0e-4bb8-4f7a-9b47-7d2f6c5e9a01';
const USER_ID = '8c2bd6a9e2b84d8b8a3f0d1c2b3a4f5e';
const PROJECT_ID = '4d7e1f0a9b8c4d3e8f7a6b5c4d3e2f1a';
export const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfJ6zY0k4Qx alice@laptop';

const CONTEXT = {
  request_id: 'req-2b1f7c0e-6d8a-4b1e-9c3d-5e7f9a1b2c3d',
  user_id: USER_ID,
  project_id: PROJECT_ID,
  auth_token: 'gAAAAABtoken-for-glance',
  global_request_id: 'req-9f8e7d6c-5b4a-4321-8765-0fedcba98765',
};

export const OVS_VIF: Vif = {
  id: '1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6',
  address: 'fa:16:3e:12:34:56',
  type: 'ovs',
  devname: 'tap1e2d3c4b-5a',
  vnic_type: 'normal',
  network: {
    id: 'a5f1c9e0-1b2c-4d3e-8f9a-0b1c2d3e4f5a',
    bridge: 'br-int',
    label: 'private',
    subnets: [
      {
        cidr: '10.0.0.0/24',
        version: 4,
        gateway: { address: '10.0.0.1' },
        ips: [{ address: '10.0.0.5', type: 'fixed', version: 4, floating_ips: [{ address: '203.0.113.7' }] }],
        dns: [{ address: '8.8.8.8' }, { address: '10.0.0.2' }],
        routes: [{ cidr: '192.168.0.0/16', gateway: { address: '10.0.0.254' } }],
        meta: { dhcp_server: '10.0.0.2' },
      },
      {
        cidr: 'fd00:1::/64',
        version: 6,
        gateway: { address: 'fd00:1::1' },
        ips: [{ address: 'fd00:1::5', type: 'fixed', version: 6, floating_ips: [] }],
        dns: [],
        routes: [],
        meta: { ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' },
      },
    ],
    meta: { mtu: 1450, physical_network: null, tunneled: true },
  },
  details: { port_filter: true, ovs_hybrid_plug: false },
  meta: {},
  active: true,
  delegate_create: false,
  preserve_on_delete: true,
};

export const SRIOV_VIF: Vif = {
  id: '7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2f10',
  address: 'fa:16:3e:ab:cd:ef',
  type: 'hw_veb',
  devname: null,
  vnic_type: 'direct',
  network: { id: 'c0ffee00-1111-4222-8333-444455556666', bridge: null, label: 'sriov-net', subnets: [], meta: {} },
  details: { vlan: '1000' },
  meta: {},
  active: false,
  delegate_create: false,
  preserve_on_delete: false,
};

/** Everything nova_wire_body.py's "full" instance carries, as the daemon must see it. */
export const FULL: SpawnRequest = {
  instance: {
    uuid: INSTANCE_UUID,
    id: 1234,
    // nova.utils.sanitize_hostname('Über server ☃ 🚀'): Latin-1 letters survive, the rest goes.
    hostname: 'über-server',
    display_name: 'Über server ☃ 🚀',
    user_data: Buffer.concat([Buffer.from('#cloud-config\nruncmd: [echo hi]\n'), Buffer.from([0xff, 0x00, 0xfe])]),
    key_name: 'alice-key',
    key_data: PUBLIC_KEY,
    keypairs: [{ name: 'alice-key', type: 'ssh', public_key: PUBLIC_KEY }],
    metadata: { role: 'web', 'ünïcode key': 'välue ☃' },
    // image_os_distro was None: left out, as Nova's system_metadata readers skip it.
    system_metadata: {
      image_hw_disk_bus: 'virtio',
      image_min_ram: '0',
      image_base_image_ref: IMAGE_UUID,
      owner_user_name: 'alice',
    },
    availability_zone: 'az-1',
    launch_index: 0,
    project_id: PROJECT_ID,
    user_id: USER_ID,
    reservation_id: 'r-3fhpjulh',
    config_drive: 'True',
    launched_at: null,
    flavor: {
      name: 'm1.pinned',
      flavorid: 'pinned-4',
      vcpus: 4,
      memory_mb: 4096,
      root_gb: 20,
      ephemeral_gb: 1,
      swap: 512,
      extra_specs: { 'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': '2' },
    },
    network_info: [OVS_VIF, SRIOV_VIF],
    kernel_id: '5e1d0c9b-8a7f-4e6d-9c5b-4a3f2e1d0c9b',
    ramdisk_id: '',
    image_ref: IMAGE_UUID,
    root_device_name: '/dev/vda',
    device_metadata: [
      { type: 'nic', bus: 'pci', address: '0000:00:03.0', mac: 'fa:16:3e:12:34:56', vlan: 1000, vf_trusted: true, tags: ['frontend'] },
      { type: 'disk', bus: 'scsi', address: '0:0:1:0', serial: 'vol-serial-1', path: '/dev/sdb', tags: ['db'] },
    ],
    // pcpuset {3, 1} and {2, 0} over two NUMA cells, sorted.
    dedicated_cpus: [0, 1, 2, 3],
  },
  image: {
    id: IMAGE_UUID,
    name: 'debian-12',
    disk_format: 'qcow2',
    container_format: 'bare',
    size: 468713472,
    checksum: '9a0364b9e99bb480dd25e1f0284c8555',
    os_hash_algo: 'sha512',
    os_hash_value: 'ab'.repeat(64),
    properties: {
      hw_disk_bus: 'virtio',
      hw_machine_type: 'q35',
      img_config_drive: 'optional',
      os_distro: 'debian',
      // glance's _translate_from_glance JSON-decoded it; kept as JSON text.
      block_device_mapping: '[{"boot_index":0,"source_type":"image"}]',
    },
  },
  admin_password: 'sekrit-päss',
  injected_files: [
    { path: '/etc/motd', contents: Buffer.from('Welcome!\n') },
    // base64.encodebytes: line breaks every 76 characters, skipped by b64decode.
    { path: '/root/blob.bin', contents: Buffer.from([...Array(256).keys(), ...Array(256).keys()]) },
  ],
  security_groups: ['default', 'web'],
  context: CONTEXT,
};

export const MINIMAL: SpawnRequest = {
  instance: {
    uuid: '00000000-0000-4000-8000-000000000001',
    id: 5,
    hostname: 'x',
    display_name: 'x',
    user_data: null,
    key_name: null,
    key_data: null,
    keypairs: [],
    metadata: {},
    system_metadata: {},
    availability_zone: null,
    launch_index: 0,
    project_id: PROJECT_ID,
    user_id: USER_ID,
    reservation_id: 'r-00000001',
    config_drive: '',
    launched_at: null,
    flavor: { name: 'm1.tiny', flavorid: '1', vcpus: 1, memory_mb: 512, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {} },
    network_info: [],
    kernel_id: '',
    ramdisk_id: '',
    image_ref: '',
    root_device_name: null,
    device_metadata: [],
    dedicated_cpus: [],
  },
  image: {
    id: null,
    name: null,
    disk_format: null,
    container_format: null,
    size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    properties: {},
  },
  admin_password: null,
  injected_files: [],
  security_groups: [],
  context: CONTEXT,
};
