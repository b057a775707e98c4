import { spawnRequestFromBuildAndRunInstance } from '../nova/build-and-run-instance.js';
import { spawnRequestFromPlainRequest } from '../nova/plain-request.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { decodeBody, type DecodedBody, type OsloMessage } from './oslo-envelope.js';

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
