import type { OsloMessage } from '../bus/oslo-envelope.js';
import { versionIsCompatible } from '../bus/oslo-version.js';
import { readImageMeta } from './image-meta.js';
import { instanceFromPrimitive } from './instance-object.js';
import { InvalidComputeRequest } from './invalid-compute-request.js';
import { childPath, expectList, expectString, Fields } from './json-fields.js';
import type { InjectedFile, RequestContext, SpawnRequest } from './spawn-request.js';
import { decodeBase64, type RequestPaths, validateSpawnRequest } from './validate.js';

export const BUILD_AND_RUN_INSTANCE = 'build_and_run_instance';

/**
 * What Zed's nova-compute serves: ComputeManager's target is 6.1 and _ComputeV5Proxy's 5.13, and the
 * dispatcher takes any version of the same major that is not newer (oslo version_is_compatible). The
 * conductor casts build_and_run_instance as 6.0, or 5.11 / 5.0 when pinned to an older compute; the
 * arguments the daemon reads are the same in all of them (5.11 added accel_uuids, which it does not use),
 * as are those of the lifecycle casts (compute-casts.ts).
 */
const SERVED_VERSIONS = ['6.1', '5.13'];

/** Refuses a compute RPC API version this daemon does not serve (InvalidComputeRequest on `version`). */
export function checkComputeVersion(message: OsloMessage): void {
  if (!SERVED_VERSIONS.some((served) => versionIsCompatible(served, message.version))) {
    throw new InvalidComputeRequest('version', message.version, 'is not a compute RPC API version this daemon serves (5.0 to 5.13, 6.0 to 6.1)');
  }
}

const PATHS: RequestPaths = {
  uuid: 'instance.uuid',
  hostname: 'instance.hostname',
  flavor: 'instance.flavor',
  injectedFilePath: (index) => `injected_files[${index}].path`,
  dedicatedCpus: 'instance.numa_topology',
};

/**
 * The cast as Nova's objects, for a compute service of a control plane that saves the instance back through
 * nova-conductor: the Instance primitive exactly as the conductor sent it, so that each save sends Nova's
 * Instance 2.7 with only what the build changed. A companion of the SpawnRequest, not a field of it: the
 * request stays one model of a spawn whichever way it arrived.
 */
export interface BuildCast {
  /** The `instance` argument, an Instance 2.x primitive (WireObject.fromPrimitive reads it). */
  instance: Record<string, unknown>;
  /** The node the scheduler chose (`node`), null when the cast has none. */
  node: string | null;
  /** The request context as it came (the `_context_*` keys): the user's, which the compute's calls carry on. */
  context: Record<string, unknown>;
  /**
   * The cast's arguments as they came: a reschedule hands them back to the conductor (filter_properties with
   * its `retry`, host_list, request_spec, requested_networks, ...).
   */
  args: Record<string, unknown>;
}

/** The cast of a build_and_run_instance message whose SpawnRequest decoded (spawnRequestFromBuildAndRunInstance). */
export function buildCastOf(message: OsloMessage): BuildCast {
  const args = new Fields(message.args, '');
  return { instance: args.required('instance') as Record<string, unknown>, node: args.nullableString('node'), context: message.context, args: message.args };
}

/**
 * A build_and_run_instance cast (nova/compute/rpcapi.py; arguments as compute/manager.py takes them) ->
 * SpawnRequest. Arguments for scheduling, volumes and ports that Nova has already settled by the time it
 * casts (request_spec, filter_properties, requested_networks, block_device_mapping, node, limits,
 * host_list, accel_uuids) are not read here; the BuildCast keeps them for a reschedule.
 */
export function spawnRequestFromBuildAndRunInstance(message: OsloMessage): SpawnRequest {
  if (message.method !== BUILD_AND_RUN_INSTANCE) {
    throw new InvalidComputeRequest('method', message.method, `must be ${BUILD_AND_RUN_INSTANCE}`);
  }
  checkComputeVersion(message);
  const args = new Fields(message.args, '');
  const request: SpawnRequest = {
    instance: instanceFromPrimitive(args.required('instance'), 'instance'),
    // ImageMeta.from_dict(None) is an empty image, as is {} for a volume-backed server without image metadata.
    image: readImageMeta(args.raw('image') ?? {}, 'image', { strict: false }),
    admin_password: args.nullableString('admin_password'),
    injected_files: injectedFiles(args),
    security_groups: nullableList(args, 'security_groups').map((group, index) => expectString(group, childPath('security_groups', index))),
    context: requestContext(message.context),
  };
  return validateSpawnRequest(request, PATHS);
}

function nullableList(args: Fields, key: string): unknown[] {
  const value = args.raw(key) ?? null;
  return value === null ? [] : expectList(value, key);
}

/**
 * injected_files: [[path, base64 contents], ...] (tuples on the sending side), decoded as
 * compute/manager.py _decode_files does: base64.b64decode(contents), a failure being Base64Exception.
 */
function injectedFiles(args: Fields): InjectedFile[] {
  return nullableList(args, 'injected_files').map((pair, index) => {
    const at = childPath('injected_files', index);
    const items = expectList(pair, at);
    if (items.length !== 2) throw new InvalidComputeRequest(at, pair, 'must be a [path, base64 contents] pair');
    const path = expectString(items[0], `${at}.path`);
    return { path, contents: decodeBase64(expectString(items[1], `${at}.contents`), `${at}.contents`) };
  });
}

/** nova.context.RequestContext.from_dict reads user_id and project_id (not oslo.context's `user`/`tenant`). */
function requestContext(context: Record<string, unknown>): RequestContext {
  const read = (key: string): string | null => {
    const value = context[key] ?? null;
    return value === null ? null : expectString(value, `_context_${key}`);
  };
  return {
    request_id: read('request_id'),
    user_id: read('user_id'),
    project_id: read('project_id'),
    auth_token: read('auth_token'),
    global_request_id: read('global_request_id'),
  };
}
