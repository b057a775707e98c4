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

/**
 * The build failed on this host and was handed back to nova-conductor, which builds it on an alternate host
 * (Nova's RescheduledException): the message is settled, neither retried here nor dead-lettered.
 */
export class SpawnRescheduled extends SpawnFailed {
  constructor(uuid: string, step: string, reason: string, options?: { cause?: unknown }) {
    super(uuid, step, false, reason, options);
  }
}
