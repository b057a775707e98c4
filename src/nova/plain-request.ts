import { PLAIN_REQUEST_KEY } from '../bus/oslo-envelope.js';
import { versionIsCompatible } from '../bus/oslo-version.js';
import { readDeviceMetadataList } from './device-metadata.js';
import { FLAVOR_KEYS, readFlavor } from './flavor.js';
import { defaultHostname } from './hostname.js';
import { readImageMeta } from './image-meta.js';
import { InvalidComputeRequest } from './invalid-compute-request.js';
import { childPath, expectInteger, expectString, Fields } from './json-fields.js';
import { KEYPAIR_KEYS, readKeyPair } from './keypair.js';
import { hydrateNetworkInfo } from './network-model.js';
import type { InjectedFile, KeyPair, SpawnRequest } from './spawn-request.js';
import { configDriveValue, decodeBase64, decodeUserData, type RequestPaths, validateSpawnRequest } from './validate.js';

/** The plain format this daemon implements; a request names the version it was written for. */
export const PLAIN_REQUEST_VERSION = '1.0';

const KEYS = [
  PLAIN_REQUEST_KEY, 'uuid', 'id', 'name', 'hostname', 'project_id', 'user_id', 'flavor', 'image', 'keypairs',
  'user_data', 'files', 'admin_pass', 'meta', 'system_metadata', 'network_info', 'config_drive',
  'availability_zone', 'launch_index', 'reservation_id', 'launched_at', 'kernel_id', 'ramdisk_id', 'image_ref',
  'root_device_name', 'device_metadata', 'dedicated_cpus', 'security_groups', 'context',
];
const FILE_KEYS = ['path', 'contents_base64'];
const CONTEXT_KEYS = ['request_id', 'global_request_id', 'auth_token', 'user_id', 'project_id'];

const PATHS: RequestPaths = {
  uuid: 'uuid',
  hostname: 'hostname',
  flavor: 'flavor',
  injectedFilePath: (index) => `files[${index}].path`,
  dedicatedCpus: 'dedicated_cpus',
};

/**
 * Our plain JSON spawn request (docs/spawn-request.md, schema/spawn-request.schema.json) -> SpawnRequest.
 * Optional fields take the value Nova's API would have given them. This is the only validator of the
 * format: the JSON Schema documents it and a test keeps the two in agreement.
 */
export function spawnRequestFromPlainRequest(value: unknown): SpawnRequest {
  const request = Fields.of(value, '');
  const version = request.required(PLAIN_REQUEST_KEY);
  if (typeof version !== 'string' || !versionIsCompatible(PLAIN_REQUEST_VERSION, version)) {
    throw new InvalidComputeRequest(PLAIN_REQUEST_KEY, version, `is not a plain request version this daemon reads (${PLAIN_REQUEST_VERSION})`);
  }
  request.onlyKeys(KEYS);

  const uuid = request.string('uuid');
  // compute/api.py _populate_instance_names and _handle_kernel_and_ramdisk.
  const displayName = request.string('name', `Server ${uuid}`);
  const image = readImageMeta(request.has('image') ? request.raw('image') : {}, 'image', { strict: true });
  const keypairs = readKeypairs(request);
  const context = request.has('context') ? request.object('context') : new Fields({}, 'context');
  context.onlyKeys(CONTEXT_KEYS);
  const projectId = request.string('project_id');
  const userId = request.string('user_id');

  return validateSpawnRequest(
    {
      instance: {
        uuid,
        id: request.nullableInteger('id'),
        hostname: request.string('hostname', defaultHostname(displayName, uuid)),
        display_name: displayName,
        user_data: decodeUserData(request.nullableString('user_data'), request.at('user_data')),
        key_name: keypairs[0]?.name ?? null,
        key_data: keypairs[0]?.public_key ?? null,
        keypairs,
        metadata: request.stringMap('meta'),
        system_metadata: request.stringMap('system_metadata'),
        availability_zone: request.nullableString('availability_zone'),
        launch_index: request.integer('launch_index', 0),
        project_id: projectId,
        user_id: userId,
        // Nova draws "r-" and 8 random characters; derived from the uuid here so a resent request is the same.
        reservation_id: request.string('reservation_id', `r-${uuid.replace(/-/g, '').slice(0, 8)}`),
        config_drive: configDriveValue(request.raw('config_drive') ?? false, request.at('config_drive')),
        launched_at: request.nullableDateTime('launched_at'),
        flavor: readPlainFlavor(request),
        network_info: request.has('network_info') ? hydrateNetworkInfo(request.raw('network_info'), request.at('network_info')) : [],
        kernel_id: request.nullableString('kernel_id', image.properties['kernel_id'] ?? null),
        ramdisk_id: request.nullableString('ramdisk_id', image.properties['ramdisk_id'] ?? null),
        image_ref: request.nullableString('image_ref', image.id),
        root_device_name: request.nullableString('root_device_name'),
        device_metadata: request.has('device_metadata') ? readDeviceMetadataList(request.raw('device_metadata'), request.at('device_metadata')) : [],
        dedicated_cpus: request.list('dedicated_cpus').map((cpu, index) => expectInteger(cpu, childPath(request.at('dedicated_cpus'), index))),
      },
      image,
      admin_password: request.nullableString('admin_pass'),
      injected_files: readFiles(request),
      // The API's default when a server is created without security groups.
      security_groups: request.has('security_groups')
        ? request.list('security_groups').map((group, index) => expectString(group, childPath(request.at('security_groups'), index)))
        : ['default'],
      context: {
        request_id: context.nullableString('request_id'),
        user_id: context.nullableString('user_id', userId),
        project_id: context.nullableString('project_id', projectId),
        auth_token: context.nullableString('auth_token'),
        global_request_id: context.nullableString('global_request_id'),
      },
    },
    PATHS,
  );
}

function readPlainFlavor(request: Fields): SpawnRequest['instance']['flavor'] {
  const flavor = request.object('flavor');
  flavor.onlyKeys(FLAVOR_KEYS);
  return readFlavor(flavor);
}

function readKeypairs(request: Fields): KeyPair[] {
  return request.list('keypairs').map((item, index) => {
    const keypair = Fields.of(item, childPath(request.at('keypairs'), index));
    keypair.onlyKeys(KEYPAIR_KEYS);
    return readKeyPair(keypair);
  });
}

function readFiles(request: Fields): InjectedFile[] {
  return request.list('files').map((item, index) => {
    const file = Fields.of(item, childPath(request.at('files'), index));
    file.onlyKeys(FILE_KEYS);
    return { path: file.string('path'), contents: decodeBase64(file.string('contents_base64'), file.at('contents_base64')) };
  });
}
