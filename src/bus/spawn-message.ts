import { spawnRequestFromBuildAndRunInstance } from '../nova/build-and-run-instance.js';
import { spawnRequestFromPlainRequest } from '../nova/plain-request.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { decodeBody, type OsloMessage } from './oslo-envelope.js';

export interface SpawnMessage {
  request: SpawnRequest;
  /** The oslo message it came in, null for a plain request. */
  oslo: OsloMessage | null;
}

/** Either form a spawn arrives in, as it sits on the wire: an oslo.messaging cast or our plain request. */
export function decodeSpawnMessage(body: Buffer, contentType?: string): SpawnMessage {
  const decoded = decodeBody(body, contentType);
  return decoded.kind === 'oslo'
    ? { request: spawnRequestFromBuildAndRunInstance(decoded.message), oslo: decoded.message }
    : { request: spawnRequestFromPlainRequest(decoded.request), oslo: null };
}
