/** ec2/<version>/meta-data.json (base.py InstanceMetadata.get_ec2_metadata). */
import type { Instance } from '../nova/spawn-request.js';
import type { Ec2Ids } from './ec2-ids.js';
import type { Ec2IpInfo } from './network-data.js';
import { dumpAsBytes, type JsonValue } from './python-json.js';
import { ec2VersionAtLeast, type Ec2Version } from './versions.js';

export type Ec2MetaData = { [key: string]: JsonValue };

/** What every version's EC2 meta-data is made of, worked out once per instance. */
export interface Ec2Source {
  instance: Instance;
  /** hostname with [api] dhcp_domain */
  hostname: string;
  ec2Ids: Ec2Ids;
  ipInfo: Ec2IpInfo;
  security_groups: readonly string[];
  /** instance_block_mapping() */
  block_device_mapping: { [key: string]: string | null };
}

/**
 * The meta-data tree of one version, as the EC2 metadata service walks it: public-keys/0 has a "_name"
 * ("0=KEYNAME", the listing entry of public-keys/).
 */
export function ec2MetaData(source: Ec2Source, version: Ec2Version): Ec2MetaData {
  const { instance, hostname, ec2Ids, ipInfo } = source;
  const metaData: Ec2MetaData = {
    'ami-id': ec2Ids.ami_id,
    'ami-launch-index': instance.launch_index,
    'ami-manifest-path': 'FIXME',
    'instance-id': ec2Ids.instance_id,
    hostname,
    // Nova falls back to the requester's address, which a config drive does not have.
    'local-ipv4': ipInfo.fixed_ips[0] || null,
    'reservation-id': instance.reservation_id,
    'security-groups': [...source.security_groups],
  };
  if (instance.key_name) {
    metaData['public-keys'] = { '0': { _name: `0=${instance.key_name}`, 'openssh-key': instance.key_data } };
  }
  if (ec2VersionAtLeast('2007-01-19', version)) {
    metaData['local-hostname'] = hostname;
    metaData['public-hostname'] = hostname;
    metaData['public-ipv4'] = ipInfo.floating_ips[0] || '';
  }
  if (ec2VersionAtLeast('2007-08-29', version)) metaData['instance-type'] = instance.flavor.name;
  if (ec2VersionAtLeast('2007-12-15', version)) {
    metaData['block-device-mapping'] = { ...source.block_device_mapping };
    if (ec2Ids.kernel_id) metaData['kernel-id'] = ec2Ids.kernel_id;
    if (ec2Ids.ramdisk_id) metaData['ramdisk-id'] = ec2Ids.ramdisk_id;
  }
  if (ec2VersionAtLeast('2008-02-01', version)) {
    metaData['placement'] = { 'availability-zone': instance.availability_zone };
  }
  if (ec2VersionAtLeast('2008-09-01', version)) metaData['instance-action'] = 'none';
  return metaData;
}

/**
 * The drive's meta-data.json: the whole tree, "_name" included. metadata_for_config_drive() means to drop
 * it but looks for data['public-keys'] one level too high, and its KeyError is swallowed.
 */
export function ec2MetaDataJson(metaData: Ec2MetaData): Uint8Array {
  return dumpAsBytes(metaData);
}
