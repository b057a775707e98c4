import type { SpawnRequest } from '../nova/spawn-request.js';
import type { SpawnResult } from './spawn-result.js';

/**
 * The spawn pipeline as the bus and the CLI see it. Idempotent per instance uuid: a spawn of an instance
 * that is already running succeeds without touching it, and concurrent spawns of one uuid share one run.
 * Fails only with OperationFailed.
 */
export interface Spawner {
  spawn(request: SpawnRequest, attempt?: SpawnAttempt): Promise<SpawnResult>;
}

/**
 * Which attempt at a spawn this is, as the bus counts them (a transient failure is tried again up to its
 * limit). A spawner that reports outcomes (a compute service of a control plane) records a failure as final
 * only when `last` is true or the failure is permanent; without it, every attempt is taken as the last.
 */
export interface SpawnAttempt {
  /** 1 for the first. */
  number: number;
  /** No further attempt follows a transient failure of this one. */
  last: boolean;
}
