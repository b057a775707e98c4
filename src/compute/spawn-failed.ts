/**
 * A spawn did not bring the guest up. `transient` says whether the same request may succeed later unchanged
 * (libvirt or Glance unreachable, disk full): the bus retries those with backoff and dead-letters the rest.
 */
export class SpawnFailed extends Error {
  override readonly name = 'SpawnFailed';
  constructor(
    readonly uuid: string,
    /** Which step failed: prepare, define, image, drive, start. */
    readonly step: string,
    readonly transient: boolean,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`spawn of instance ${uuid} failed at ${step}: ${reason}`, options);
  }
}
