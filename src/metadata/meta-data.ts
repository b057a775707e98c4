/** openstack/<version>/meta_data.json (base.py InstanceMetadata._metadata_as_json). */
import type { DeviceMetadata, Instance } from '../nova/spawn-request.js';
import { dumpMembersAsBytes, dumpsMembers, type JsonValue } from './python-json.js';
import { GRIZZLY, LIBERTY, NEWTON_ONE, OCATA, openstackVersionAtLeast, ROCKY, VICTORIA, type OpenstackVersion } from './versions.js';

/** A file of the content/ directory as meta_data.json lists it. */
export interface ContentEntry {
  path: string;
  content_path: string;
}

/** What every version's meta_data.json is made of, worked out once per instance. */
export interface MetaDataSource {
  instance: Instance;
  /** hostname with [api] dhcp_domain */
  hostname: string;
  /** The injected files ("files"), in request order: the drive's only, as Nova's service has none. */
  files: readonly ContentEntry[];
  /** extra_md: the libvirt driver passes the admin password, when there is one, to the drive's only. */
  admin_pass: string | null;
  /** The injected interfaces file ("network_config"), when a network asks for injection. */
  network_config: { name: 'network_config'; content_path: string } | null;
}

type JsonDict = { [key: string]: JsonValue };

/** _get_device_metadata: tagged devices, with the keys each version knows. */
function deviceMetadata(devices: readonly DeviceMetadata[], version: OpenstackVersion): JsonDict[] {
  const vlansSupported = openstackVersionAtLeast(OCATA, version);
  const vfTrustedSupported = openstackVersionAtLeast(ROCKY, version);
  const out: JsonDict[] = [];
  for (const device of devices) {
    const entry: JsonDict = {};
    if (device.type === 'nic') {
      if (vlansSupported && device.vlan !== undefined) entry['vlan'] = device.vlan;
      if (vfTrustedSupported) entry['vf_trusted'] = device.vf_trusted ?? false;
      entry['type'] = 'nic';
      entry['mac'] = device.mac ?? null;
      // Nova hides a NIC that has nothing to tell the guest in this version.
      if (device.tags.length === 0 && !('vlan' in entry) && !('vf_trusted' in entry)) continue;
    } else {
      entry['type'] = 'disk';
      if (device.serial !== undefined) entry['serial'] = device.serial;
      if (device.path !== undefined) entry['path'] = device.path;
    }
    entry['bus'] = device.bus;
    // A device without a bus has no address either.
    entry['address'] = device.bus === 'none' ? 'none' : device.address;
    if (device.tags.length > 0) entry['tags'] = device.tags;
    out.push(entry);
  }
  return out;
}

function randomSeedText(randomSeed: () => Uint8Array): string {
  return Buffer.from(randomSeed()).toString('base64');
}

/** The keys every version has, in Nova's order (all of them come before the keys later versions added). */
function commonMetadata(source: MetaDataSource): JsonDict {
  const instance = source.instance;
  const metadata: JsonDict = { uuid: instance.uuid };
  if (Object.keys(instance.metadata).length > 0) metadata['meta'] = instance.metadata;
  if (source.files.length > 0) metadata['files'] = source.files.map((file) => ({ ...file }));
  if (source.admin_pass) metadata['admin_pass'] = source.admin_pass;
  if (source.network_config) metadata['network_config'] = { ...source.network_config };

  // Nova reads the key from instance.keypairs (the first one), not from key_data.
  const keypair = instance.keypairs[0];
  if (instance.key_name && keypair) {
    metadata['public_keys'] = new Map([[keypair.name, keypair.public_key]]);
    metadata['keys'] = [{ name: keypair.name, type: keypair.type, data: keypair.public_key }];
  }

  metadata['hostname'] = source.hostname;
  metadata['name'] = instance.display_name;
  metadata['launch_index'] = instance.launch_index;
  metadata['availability_zone'] = instance.availability_zone;
  return metadata;
}

/** The keys of later versions, after the common ones; randomSeed is drawn once if the version has random_seed. */
function versionedMetadata(instance: Instance, version: OpenstackVersion, randomSeed: () => Uint8Array): JsonDict {
  const metadata: JsonDict = {};
  if (openstackVersionAtLeast(GRIZZLY, version)) metadata['random_seed'] = randomSeedText(randomSeed);
  if (openstackVersionAtLeast(LIBERTY, version)) metadata['project_id'] = instance.project_id;
  if (openstackVersionAtLeast(NEWTON_ONE, version)) metadata['devices'] = deviceMetadata(instance.device_metadata, version);
  if (openstackVersionAtLeast(VICTORIA, version)) {
    metadata['dedicated_cpus'] = [...instance.dedicated_cpus].sort((a, b) => a - b);
  }
  return metadata;
}

/**
 * The documents of every version of one instance: the members they share are written once, so each
 * version costs only its random seed (drawn per document, as Nova draws it) and the keys it added.
 */
export function metaDataWriter(source: MetaDataSource): (version: OpenstackVersion, randomSeed: () => Uint8Array) => Uint8Array {
  const common = dumpsMembers(commonMetadata(source));
  return (version, randomSeed) => dumpMembersAsBytes([...common, ...dumpsMembers(versionedMetadata(source.instance, version, randomSeed))]);
}

/** The document of one version; randomSeed is drawn once if the version has random_seed. */
export function metaDataJson(source: MetaDataSource, version: OpenstackVersion, randomSeed: () => Uint8Array): Uint8Array {
  return metaDataWriter(source)(version, randomSeed);
}
