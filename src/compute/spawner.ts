import type { SpawnRequest } from '../nova/spawn-request.js';
import type { SpawnResult } from './spawn-result.js';

/**
 * The spawn pipeline as the bus and the CLI see it. Idempotent per instance uuid: a spawn of an instance
 * that is already running succeeds without touching it, and concurrent spawns of one uuid share one run.
 * Fails only with SpawnFailed.
 */
export interface Spawner {
  spawn(request: SpawnRequest): Promise<SpawnResult>;
}
