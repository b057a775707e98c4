/**
 * One typed model of everything a spawn needs, whichever way it arrived (Nova's wire objects or our plain
 * JSON request). Field names are Nova's own (Instance, Flavor, KeyPair, ImageMeta, the VIF model) so that a
 * Nova engineer recognises them; decoders in src/nova/ produce it, everything downstream consumes it.
 */

export interface Flavor {
  name: string;
  flavorid: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  /** MiB, 0 when none (Nova stores swap in MiB). */
  swap: number;
  extra_specs: Record<string, string>;
}

/** Nova's KeyPair object, as instance.keypairs carries it. */
export interface KeyPair {
  name: string;
  type: 'ssh' | 'x509';
  public_key: string;
}

/** The glance image dict Nova passes as `image` (nova.objects.ImageMeta's source), properties flattened. */
export interface ImageMeta {
  id: string | null;
  name: string | null;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  /** hw_machine_type, hw_cdrom_bus, hw_disk_bus, img_config_drive, os_command_line, kernel_id, ramdisk_id, ... */
  properties: Record<string, string>;
}

/** nova.network.model: one IP of a subnet, with its floating IPs. */
export interface FixedIp {
  address: string;
  type: string;
  version: 4 | 6;
  floating_ips: { address: string }[];
}

export interface Route {
  cidr: string;
  gateway: { address: string | null };
}

export interface Subnet {
  cidr: string;
  version: 4 | 6;
  gateway: { address: string | null } | null;
  ips: FixedIp[];
  dns: { address: string }[];
  routes: Route[];
  /** dhcp_server, ipv6_address_mode, ipv6_ra_mode, ... */
  meta: Record<string, unknown>;
}

export interface Network {
  id: string;
  bridge: string | null;
  label: string | null;
  subnets: Subnet[];
  /** mtu, physical_network, tunneled, ... */
  meta: Record<string, unknown>;
}

/** nova.network.model.VIF as serialised in InstanceInfoCache.network_info. */
export interface Vif {
  id: string;
  address: string;
  type: string;
  devname: string | null;
  vnic_type: string;
  network: Network;
  details: Record<string, unknown>;
  meta: Record<string, unknown>;
  active: boolean;
  /** os-vif creates the port (OVS: the switch port for a tap libvirt makes); Neutron's VIFs all say true. */
  delegate_create: boolean;
  /** A port the user passed in: unbound, not deleted, when the instance goes. */
  preserve_on_delete: boolean;
}

/** A tagged device for meta_data.json `devices` (nova.objects.virt_device_metadata). */
export interface DeviceMetadata {
  type: 'nic' | 'disk';
  bus: 'pci' | 'usb' | 'scsi' | 'ide' | 'xen' | 'none';
  address: string;
  mac?: string;
  serial?: string;
  path?: string;
  vlan?: number;
  vf_trusted?: boolean;
  tags: string[];
}

export interface Instance {
  uuid: string;
  /** Nova's numeric database id: instance-%08x and EC2's i-%08x derive from it. */
  id: number | null;
  hostname: string;
  display_name: string;
  /** Decoded bytes of the base64 user_data, null when the request had none. */
  user_data: Buffer | null;
  key_name: string | null;
  key_data: string | null;
  keypairs: KeyPair[];
  metadata: Record<string, string>;
  system_metadata: Record<string, string>;
  availability_zone: string | null;
  launch_index: number;
  project_id: string;
  user_id: string;
  reservation_id: string;
  /** Nova's own encoding: "True" (or any truthy string) asks for a drive, "" does not. */
  config_drive: string;
  /** ISO 8601 or null; force_config_drive only applies to instances never launched. */
  launched_at: string | null;
  flavor: Flavor;
  network_info: Vif[];
  kernel_id: string | null;
  ramdisk_id: string | null;
  image_ref: string | null;
  root_device_name: string | null;
  device_metadata: DeviceMetadata[];
  /** The guest's pinned vCPU numbers (the NUMA cells' pcpuset; meta_data.json dedicated_cpus). */
  dedicated_cpus: number[];
  /**
   * Nova's EC2Ids for the instance (the EC2InstanceMapping and S3ImageMapping rows of its database), when a
   * control plane gave them; without them the metadata derives EC2 ids itself (metadata/ec2-ids.ts).
   */
  ec2_ids?: NovaEc2Ids;
}

/** nova.objects.EC2Ids: i-%08x, ami-%08x, aki-%08x, ari-%08x of Nova's database ids. */
export interface NovaEc2Ids {
  instance_id: string;
  ami_id: string | null;
  kernel_id: string | null;
  ramdisk_id: string | null;
}

/** A personality file: `injected_files` of build_and_run_instance, decoded. */
export interface InjectedFile {
  path: string;
  contents: Buffer;
}

/** The slice of oslo's request context that the daemon logs, forwards (Glance token) and notifies with. */
export interface RequestContext {
  request_id: string | null;
  user_id: string | null;
  project_id: string | null;
  auth_token: string | null;
  global_request_id: string | null;
}

export interface SpawnRequest {
  instance: Instance;
  image: ImageMeta;
  admin_password: string | null;
  injected_files: InjectedFile[];
  security_groups: string[];
  context: RequestContext;
}
