/** Spawn requests and options for the virt tests. */
import type { ImageMeta, Instance, SpawnRequest, Vif } from '../../src/nova/spawn-request.js';
import type { GuestRequest } from '../../src/virt/plan-guest.js';
import type { VirtOptions } from '../../src/virt/virt-options.js';

export const INSTANCES_PATH = '/var/lib/nova/instances';
export const UUID = '6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
export const IMAGE_ID = '1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d';

/** An OVS VIF on br-int with MTU 1450; `mtu: undefined` leaves the network without one. */
export function vif(fields: Partial<Vif> & { bridge?: string | null; mtu?: unknown } = {}): Vif {
  const { bridge = 'br-int', mtu, ...rest } = { mtu: 1450, ...fields };
  return {
    id: '5a1f1d2e-0000-4000-8000-000000000001',
    address: 'fa:16:3e:12:34:56',
    type: 'ovs',
    devname: 'tap5a1f1d2e-00',
    vnic_type: 'normal',
    network: {
      id: '9e8d7c6b-0000-4000-8000-0000000000aa',
      bridge,
      label: 'private',
      subnets: [
        {
          cidr: '10.0.0.0/24',
          version: 4,
          gateway: { address: '10.0.0.1' },
          ips: [{ address: '10.0.0.5', type: 'fixed', version: 4, floating_ips: [] }],
          dns: [],
          routes: [],
          meta: {},
        },
      ],
      meta: mtu === undefined ? {} : { mtu },
    },
    details: {},
    meta: {},
    active: true,
    delegate_create: false,
    preserve_on_delete: false,
    ...rest,
  };
}

export function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    uuid: UUID,
    id: 42,
    hostname: 'web-01',
    display_name: 'Web 01',
    user_data: null,
    key_name: null,
    key_data: null,
    keypairs: [],
    metadata: {},
    system_metadata: { owner_user_name: 'alice', owner_project_name: 'demo' },
    availability_zone: null,
    launch_index: 0,
    project_id: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    user_id: 'bead0000bead0000bead0000bead0000',
    reservation_id: 'r-3fhuh0ko',
    config_drive: 'True',
    launched_at: null,
    flavor: { name: 'm1.small', flavorid: '2', vcpus: 2, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, swap: 0, extra_specs: {} },
    network_info: [],
    kernel_id: null,
    ramdisk_id: null,
    image_ref: IMAGE_ID,
    root_device_name: null,
    device_metadata: [],
    dedicated_cpus: [],
    ...overrides,
  };
}

export function image(properties: Record<string, string> = {}): ImageMeta {
  return {
    id: IMAGE_ID,
    name: 'debian-12',
    disk_format: 'qcow2',
    container_format: 'bare',
    size: 1024,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    properties,
  };
}

export function spawnRequest(instanceOverrides: Partial<Instance> = {}, properties: Record<string, string> = {}): SpawnRequest {
  return {
    instance: instance(instanceOverrides),
    image: image(properties),
    admin_password: null,
    injected_files: [],
    security_groups: [],
    context: { request_id: null, user_id: null, project_id: null, auth_token: null, global_request_id: null },
  };
}

export function virtOptions(overrides: Partial<VirtOptions> = {}): VirtOptions {
  return {
    virt_type: 'qemu',
    instances_path: INSTANCES_PATH,
    host_arch: 'x86_64',
    machine_types: new Map(),
    disk_prefix: null,
    disk_cachemodes: new Map(),
    default_cachemode: 'none',
    ...overrides,
  };
}

export const NOW = new Date('2024-05-06T07:08:09.500Z');

export function guestRequest(overrides: Partial<GuestRequest> = {}): GuestRequest {
  const request = overrides.request ?? spawnRequest();
  const dir = `${INSTANCES_PATH}/${request.instance.uuid}`;
  return {
    request,
    options: virtOptions(),
    images: { disk: { path: `${dir}/disk`, format: 'qcow2' } },
    configDrive: 'iso9660',
    kernel: null,
    now: NOW,
    ...overrides,
  };
}
