/**
 * Everything Nova's InstanceMetadata serves for one instance, built once at spawn: the config drive is
 * written from it and the metadata HTTP service answers from it, so both hand out the same bytes, except
 * what Nova gives the drive alone (the admin password and the injected files).
 */
import type { DriveTree } from '../configdrive/tree.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { instanceBlockMapping, NO_BLOCK_DEVICES, type BlockDevices } from './block-device-mapping.js';
import { ec2MetaData, ec2MetaDataJson, type Ec2MetaData, type Ec2Source } from './ec2-meta-data.js';
import { metaDataWriter, type ContentEntry, type MetaDataSource } from './meta-data.js';
import { ec2IpInfo, networkMetadata } from './network-data.js';
import { injectedNetworkTemplate } from './network-template.js';
import { validateMetadataOptions, type MetadataOptions } from './options.js';
import { dumpAsBytes } from './python-json.js';
import { vendorData2Json, vendorDataJson } from './vendor-data.js';
import {
  EC2_VERSION_DIRECTORIES,
  HAVANA,
  LIBERTY,
  NEWTON_TWO,
  OPENSTACK_VERSION_DIRECTORIES,
  openstackVersionAtLeast,
  resolveEc2Version,
  resolveOpenstackVersion,
  type Ec2VersionDirectory,
  type OpenstackVersionDirectory,
} from './versions.js';

export const META_DATA_JSON = 'meta_data.json';
export const USER_DATA = 'user_data';
export const VENDOR_DATA_JSON = 'vendor_data.json';
export const NETWORK_DATA_JSON = 'network_data.json';
export const VENDOR_DATA2_JSON = 'vendor_data2.json';

export interface Ec2Documents {
  /** The meta-data tree (public-keys/0 still has its "_name"). */
  meta_data: Ec2MetaData;
  /** Raw user data, null when the instance has none. */
  user_data: Uint8Array | null;
}

/**
 * What Nova's metadata service serves: the InstanceMetadata(instance, address) of get_metadata_by_instance_id,
 * without content or extra_md. The HTTP service answers from this alone.
 */
export interface ServiceMetadata {
  uuid: string;
  /** Every EC2 version and `latest`. */
  ec2: ReadonlyMap<Ec2VersionDirectory, Ec2Documents>;
  /** Every OpenStack version and `latest`: file name -> bytes, in the order Nova writes them. */
  openstack: ReadonlyMap<OpenstackVersionDirectory, ReadonlyMap<string, Uint8Array>>;
  /** openstack/content/NNNN: the injected interfaces file (if any), the only content the service has. */
  content: ReadonlyMap<string, Uint8Array>;
}

/**
 * The drive's InstanceMetadata: the libvirt driver adds content=injected_files and extra_md={'admin_pass'}.
 * Those stay on the drive, which only root in the guest can mount; 169.254.169.254 answers every local user.
 */
export interface InstanceMetadata extends ServiceMetadata {
  /** meta_data.json of every version as the drive has it: "files" and "admin_pass" too, the same random_seed. */
  drive_meta_data: ReadonlyMap<OpenstackVersionDirectory, Uint8Array>;
  /** openstack/content/NNNN of the injected files, numbered after the interfaces file. */
  injected_content: ReadonlyMap<string, Uint8Array>;
  /** [api] config_drive_skip_versions: EC2 directories the drive leaves out (the HTTP service serves all). */
  config_drive_skip_versions: readonly string[];
}

const encoder = new TextEncoder();

function contentKey(index: number): string {
  return String(index).padStart(4, '0');
}

function contentPath(key: string): string {
  return `/content/${key}`;
}

/** One draw, however often it is asked for: a version's two meta_data.json share their random_seed. */
function drawnOnce(draw: () => Uint8Array): () => Uint8Array {
  let drawn: Uint8Array | undefined;
  return () => (drawn ??= draw());
}

/**
 * base.InstanceMetadata(instance, content=injected_files, extra_md={'admin_pass': ...}) as the libvirt driver
 * builds it for the config drive, and the service's InstanceMetadata(instance) within it. blockDevices are
 * the disk names the virt layer chose (EC2's block-device-mapping); random_seed is drawn once per version.
 */
export function buildInstanceMetadata(
  request: SpawnRequest,
  options: MetadataOptions,
  blockDevices: BlockDevices = NO_BLOCK_DEVICES,
): InstanceMetadata {
  validateMetadataOptions(options);
  const instance = request.instance;
  const hostname = options.dhcp_domain ? `${instance.hostname}.${options.dhcp_domain}` : instance.hostname;
  const userData = instance.user_data === null ? null : new Uint8Array(instance.user_data);

  const content = new Map<string, Uint8Array>();
  let networkConfig: MetaDataSource['network_config'] = null;
  const interfacesFile = injectedNetworkTemplate(instance.network_info);
  if (interfacesFile !== null) {
    const key = contentKey(content.size);
    content.set(key, encoder.encode(interfacesFile));
    networkConfig = { name: 'network_config', content_path: contentPath(key) };
  }
  const injectedContent = new Map<string, Uint8Array>();
  const files: ContentEntry[] = [];
  for (const file of request.injected_files) {
    const key = contentKey(content.size + injectedContent.size);
    injectedContent.set(key, new Uint8Array(file.contents));
    files.push({ path: file.path, content_path: contentPath(key) });
  }

  const ec2Source: Ec2Source = {
    instance,
    hostname,
    // Nova's database ids when the control plane gave them (EC2Ids.get_by_instance), as Nova's own metadata has.
    ec2Ids: instance.ec2_ids ?? options.ec2Ids(instance),
    ipInfo: ec2IpInfo(instance.network_info),
    security_groups: request.security_groups,
    block_device_mapping: instanceBlockMapping(instance.root_device_name, blockDevices),
  };
  const ec2 = new Map<Ec2VersionDirectory, Ec2Documents>();
  for (const directory of EC2_VERSION_DIRECTORIES) {
    ec2.set(directory, { meta_data: ec2MetaData(ec2Source, resolveEc2Version(directory)), user_data: userData });
  }

  const serviceSource: MetaDataSource = { instance, hostname, files: [], admin_pass: null, network_config: networkConfig };
  const serviceMetaDataJson = metaDataWriter(serviceSource);
  const driveMetaDataJson = metaDataWriter({ ...serviceSource, files, admin_pass: request.admin_password });
  const networkData = dumpAsBytes(networkMetadata(instance.network_info) ?? {});
  const vendorData = vendorDataJson(options);
  const vendorData2 = vendorData2Json(options);
  const openstack = new Map<OpenstackVersionDirectory, ReadonlyMap<string, Uint8Array>>();
  const driveMetaData = new Map<OpenstackVersionDirectory, Uint8Array>();
  for (const directory of OPENSTACK_VERSION_DIRECTORIES) {
    const version = resolveOpenstackVersion(directory);
    const randomSeed = drawnOnce(options.randomSeed);
    const documents = new Map<string, Uint8Array>();
    documents.set(META_DATA_JSON, serviceMetaDataJson(version, randomSeed));
    driveMetaData.set(directory, driveMetaDataJson(version, randomSeed));
    if (userData !== null) documents.set(USER_DATA, userData);
    if (openstackVersionAtLeast(HAVANA, version) && vendorData !== null) documents.set(VENDOR_DATA_JSON, vendorData);
    if (openstackVersionAtLeast(LIBERTY, version)) documents.set(NETWORK_DATA_JSON, networkData);
    if (openstackVersionAtLeast(NEWTON_TWO, version)) documents.set(VENDOR_DATA2_JSON, vendorData2);
    openstack.set(directory, documents);
  }

  return {
    uuid: instance.uuid,
    ec2,
    openstack,
    content,
    drive_meta_data: driveMetaData,
    injected_content: injectedContent,
    config_drive_skip_versions: options.config_drive_skip_versions,
  };
}

/** The config drive's files, in the order Nova's metadata_for_config_drive() yields them. */
export function toDriveTree(metadata: InstanceMetadata): DriveTree {
  const tree = new Map<string, Uint8Array>();
  for (const [directory, documents] of metadata.ec2) {
    if (metadata.config_drive_skip_versions.includes(directory)) continue;
    if (documents.user_data !== null) tree.set(`ec2/${directory}/user-data`, documents.user_data);
    tree.set(`ec2/${directory}/meta-data.json`, ec2MetaDataJson(documents.meta_data));
  }
  for (const [directory, documents] of metadata.openstack) {
    for (const [name, data] of documents) {
      tree.set(`openstack/${directory}/${name}`, name === META_DATA_JSON ? metadata.drive_meta_data.get(directory)! : data);
    }
  }
  for (const [key, data] of [...metadata.content, ...metadata.injected_content]) tree.set(`openstack/content/${key}`, data);
  return tree;
}
