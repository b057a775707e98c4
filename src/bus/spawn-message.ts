import type { InstanceOperation } from '../compute/compute-manager.js';
import { BUILD_AND_RUN_INSTANCE, buildCastOf, spawnRequestFromBuildAndRunInstance } from '../nova/build-and-run-instance.js';
import { isLifecycleMethod, lifecycleCastOf, type LifecycleCast } from '../nova/compute-casts.js';
import { spawnRequestFromPlainRequest } from '../nova/plain-request.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { decodeBody, type DecodedBody, type OsloMessage } from './oslo-envelope.js';
import { UnsupportedMethod } from './unsupported-method.js';

export interface SpawnMessage {
  request: SpawnRequest;
  /** The oslo message it came in, null for a plain request. */
  oslo: OsloMessage | null;
}

/** Either form a spawn arrives in, as it sits on the wire: an oslo.messaging cast or our plain request. */
export function decodeSpawnMessage(body: Buffer, contentType?: string): SpawnMessage {
  return spawnMessageOf(decodeBody(body, contentType));
}

/** The spawn request an opened body carries; throws InvalidComputeRequest. */
export function spawnMessageOf(decoded: DecodedBody): SpawnMessage {
  return decoded.kind === 'oslo'
    ? { request: spawnRequestFromBuildAndRunInstance(decoded.message), oslo: decoded.message }
    : { request: spawnRequestFromPlainRequest(decoded.request), oslo: null };
}

/**
 * What an opened body asks of the compute manager: a build (a cast of build_and_run_instance or our plain
 * request) or a lifecycle method of the compute API; UnsupportedMethod for any other method, InvalidComputeRequest
 * for arguments that do not decode.
 */
export function operationOf(decoded: DecodedBody): InstanceOperation {
  if (decoded.kind === 'plain') return { kind: 'build', request: spawnRequestFromPlainRequest(decoded.request), cast: null };
  const message = decoded.message;
  if (message.namespace !== null) throw new UnsupportedMethod(message.method, message.namespace);
  if (message.method === BUILD_AND_RUN_INSTANCE) return { kind: 'build', request: spawnRequestFromBuildAndRunInstance(message), cast: buildCastOf(message) };
  if (isLifecycleMethod(message.method)) return lifecycleOperation(lifecycleCastOf(message));
  throw new UnsupportedMethod(message.method, null);
}

function lifecycleOperation(cast: LifecycleCast): InstanceOperation {
  switch (cast.method) {
    case 'terminate_instance':
      return { kind: 'terminate', target: cast.target };
    case 'stop_instance':
      return { kind: 'stop', target: cast.target, cleanShutdown: cast.cleanShutdown };
    case 'start_instance':
      return { kind: 'start', target: cast.target };
    case 'reboot_instance':
      return { kind: 'reboot', target: cast.target, rebootType: cast.rebootType };
    case 'get_console_output':
      return { kind: 'console-output', target: cast.target, tailLength: cast.tailLength };
    case 'external_instance_event':
      return { kind: 'external-events', targets: cast.targets, events: cast.events };
  }
}
