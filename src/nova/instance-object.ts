import { deviceMetadataFromPrimitive } from './device-metadata.js';
import { readFlavor } from './flavor.js';
import { childPath, type Fields, parseJsonField } from './json-fields.js';
import { readKeyPair } from './keypair.js';
import { hydrateNetworkInfo } from './network-model.js';
import { optionalNovaObject, unwrapNovaObject } from './nova-object.js';
import { dedicatedCpusFromPrimitive } from './numa-topology.js';
import type { Instance, KeyPair, Vif } from './spawn-request.js';
import { configDriveValue, decodeUserData } from './validate.js';

/**
 * An Instance 2.x primitive (build_and_run_instance's `instance`) -> Instance. The conductor sends the
 * instance as Instance.create() left it, with every column and the flavor, keypairs, info_cache,
 * device_metadata and numa_topology loaded; a field that is still unset gets the value Nova would treat it
 * as, and the fields a guest's identity hangs on (uuid, hostname, display_name, project_id, user_id,
 * reservation_id, flavor) are required.
 */
export function instanceFromPrimitive(value: unknown, path: string): Instance {
  const instance = unwrapNovaObject(value, path, ['Instance'], 2).data;
  const flavor = unwrapNovaObject(instance.required('flavor'), instance.at('flavor'), ['Flavor'], 1);
  return {
    uuid: instance.string('uuid'),
    id: instance.nullableInteger('id'),
    hostname: instance.string('hostname'),
    display_name: instance.string('display_name'),
    user_data: decodeUserData(instance.nullableString('user_data'), instance.at('user_data')),
    key_name: instance.nullableString('key_name'),
    key_data: instance.nullableString('key_data'),
    keypairs: keypairsFromPrimitive(instance),
    metadata: instance.stringMap('metadata'),
    // DictOfNullableStringsField; Nova's readers (utils.get_image_from_system_metadata) skip None values.
    system_metadata: instance.stringMap('system_metadata', { dropNulls: true }),
    availability_zone: instance.nullableString('availability_zone'),
    launch_index: instance.nullableInteger('launch_index') ?? 0,
    project_id: instance.string('project_id'),
    user_id: instance.string('user_id'),
    reservation_id: instance.string('reservation_id'),
    config_drive: configDriveValue(instance.raw('config_drive') ?? null, instance.at('config_drive')),
    launched_at: instance.nullableDateTime('launched_at'),
    flavor: readFlavor(flavor.data),
    network_info: networkInfoFromPrimitive(instance),
    kernel_id: instance.nullableString('kernel_id'),
    ramdisk_id: instance.nullableString('ramdisk_id'),
    image_ref: instance.nullableString('image_ref'),
    root_device_name: instance.nullableString('root_device_name'),
    device_metadata: deviceMetadataFromPrimitive(instance),
    dedicated_cpus: dedicatedCpusFromPrimitive(instance),
  };
}

/** Instance.keypairs: a KeyPairList 1.x of KeyPair 1.x; unset means none. */
function keypairsFromPrimitive(instance: Fields): KeyPair[] {
  const list = optionalNovaObject(instance, 'keypairs', ['KeyPairList'], 1);
  if (!list) return [];
  return list.data
    .list('objects')
    .map((keypair, index) => readKeyPair(unwrapNovaObject(keypair, childPath(list.data.at('objects'), index), ['KeyPair'], 1).data));
}

/**
 * Instance.info_cache (InstanceInfoCache 1.x).network_info is a NetworkModelField: on the wire the VIF
 * list as a JSON string (NetworkInfo.json()); NetworkInfo.hydrate also takes the list itself, so both are
 * read. No cache or a null network_info: no VIFs.
 */
function networkInfoFromPrimitive(instance: Fields): Vif[] {
  const cache = optionalNovaObject(instance, 'info_cache', ['InstanceInfoCache'], 1);
  const networkInfo = cache?.data.raw('network_info') ?? null;
  if (!cache || networkInfo === null) return [];
  const path = cache.data.at('network_info');
  return hydrateNetworkInfo(typeof networkInfo === 'string' ? parseJsonField(networkInfo, path) : networkInfo, path);
}
