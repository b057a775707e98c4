import { isValidHostname } from './hostname.js';
import { InvalidComputeRequest } from './invalid-compute-request.js';
import { pythonB64Decode } from './python-base64.js';
import type { SpawnRequest } from './spawn-request.js';

/**
 * The rules a spawn request must meet whichever form it came in. Value-level rules (base64, config_drive)
 * are functions the decoders call while reading; request-level rules run once on the finished
 * SpawnRequest through validateSpawnRequest, told where each field sat in the sender's form.
 */

/**
 * Nova's API limit (api/openstack/compute/schemas/servers.py: user_data maxLength 65535). It is on the
 * base64 text, not on the decoded bytes, so up to 49149 bytes of user data fit.
 */
export const USER_DATA_MAX_LENGTH = 65535;

/** Nova's canonical form (str(uuid.UUID)), libvirt's spelling too: instance directories and domain names are built from it. */
export const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The values Nova's API takes for config_drive (api/validation/parameter_types.py `boolean`); compute/api.py
 * _check_config_drive turns them into Instance.config_drive "True" or "".
 */
const CONFIG_DRIVE_TRUE: readonly unknown[] = [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes'];
const CONFIG_DRIVE_FALSE: readonly unknown[] = [false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];

/** Base64 as Nova decodes it; `path` names the field in errors. */
export function decodeBase64(text: string, path: string): Buffer {
  const result = pythonB64Decode(text);
  if ('error' in result) throw new InvalidComputeRequest(path, text, `is not valid base64: ${result.error}`);
  return result.bytes;
}

export function decodeUserData(text: string | null, path: string): Buffer | null {
  if (text === null) return null;
  if (text.length > USER_DATA_MAX_LENGTH) {
    throw new InvalidComputeRequest(path, text, `is longer than Nova's limit of ${USER_DATA_MAX_LENGTH} base64 characters (${text.length})`);
  }
  return decodeBase64(text, path);
}

/**
 * Instance.config_drive in Nova's own encoding: "True" asks for a drive, "" does not. Accepted: what the
 * API accepts, and "" and null, which is how an instance without a drive carries it. Nova's required_by()
 * would take any other non-empty string as "yes"; the API never stores one, so here it is an error rather
 * than a guess.
 */
export function configDriveValue(value: unknown, path: string): 'True' | '' {
  if (CONFIG_DRIVE_TRUE.includes(value)) return 'True';
  if (value === null || value === '' || CONFIG_DRIVE_FALSE.includes(value)) return '';
  throw new InvalidComputeRequest(path, value, 'must be a boolean, "", null or one of Nova\'s boolean strings ("True", "yes", "0", ...)');
}

/** Where the request-level fields sat in the sender's form, for error messages. */
export interface RequestPaths {
  uuid: string;
  hostname: string;
  flavor: string;
  injectedFilePath(index: number): string;
  dedicatedCpus: string;
}

export function validateSpawnRequest(request: SpawnRequest, paths: RequestPaths): SpawnRequest {
  const { instance } = request;
  if (!CANONICAL_UUID.test(instance.uuid)) {
    throw new InvalidComputeRequest(paths.uuid, instance.uuid, 'is not a UUID in canonical form (lowercase 8-4-4-4-12 hex)');
  }
  if (!isValidHostname(instance.hostname)) {
    throw new InvalidComputeRequest(
      paths.hostname,
      instance.hostname,
      'is not a valid hostname (1-63 Latin-1 letters, digits or "-", not starting or ending with "-")',
    );
  }
  const { flavor } = instance;
  for (const key of ['vcpus', 'memory_mb'] as const) {
    if (flavor[key] < 1) throw new InvalidComputeRequest(`${paths.flavor}.${key}`, flavor[key], 'must be at least 1');
  }
  for (const key of ['root_gb', 'ephemeral_gb', 'swap'] as const) {
    if (flavor[key] < 0) throw new InvalidComputeRequest(`${paths.flavor}.${key}`, flavor[key], 'must not be negative');
  }
  request.injected_files.forEach((file, index) => checkInjectedFilePath(file.path, paths.injectedFilePath(index)));
  for (const cpu of instance.dedicated_cpus) {
    if (cpu < 0) throw new InvalidComputeRequest(paths.dedicatedCpus, instance.dedicated_cpus, 'must list CPU numbers (0 or more)');
  }
  return request;
}

/**
 * A personality file is written where the path says (Nova's file injection did so inside the guest
 * image) and listed in meta_data.json for cloud-init to write: it must be absolute and must not climb out.
 */
function checkInjectedFilePath(path: string, field: string): void {
  if (path.includes('\0')) throw new InvalidComputeRequest(field, path, 'must not contain NUL');
  if (!path.startsWith('/')) throw new InvalidComputeRequest(field, path, 'must be an absolute path');
  if (path.split('/').includes('..')) throw new InvalidComputeRequest(field, path, 'must not contain ".." components');
  if (path.endsWith('/')) throw new InvalidComputeRequest(field, path, 'must name a file, not a directory');
}
