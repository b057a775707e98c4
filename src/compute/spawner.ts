import type { SpawnRequest } from '../nova/spawn-request.js';
import type { SpawnResult } from './spawn-result.js';

/**
 * The spawn pipeline as the compute manager and the CLI see it. Idempotent per instance uuid: a spawn of an
 * instance that is already running succeeds without touching it. One spawn of an instance at a time is the
 * caller's to ensure (the compute manager's lock). Fails only with OperationFailed.
 */
export interface Spawner {
  spawn(request: SpawnRequest, attempt?: SpawnAttempt): Promise<SpawnResult>;
}

/**
 * Which attempt at an operation this is, as the compute manager counts them (a transient failure is tried
 * again up to its limit). A spawner that reports outcomes (a compute service of a control plane) records a failure as final
 * only when `last` is true or the failure is permanent; without it, every attempt is taken as the last.
 */
export interface SpawnAttempt {
  /** 1 for the first. */
  number: number;
  /** No further attempt follows a transient failure of this one. */
  last: boolean;
  /**
   * The message was delivered before (the broker's redelivered flag): work may have been done on it, so what
   * it says of the instance may be stale. Absent: not known, and taken as possibly stale.
   */
  redelivered?: boolean;
}
