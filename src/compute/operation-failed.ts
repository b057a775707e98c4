/**
 * An operation on an instance (a spawn, a delete, a power change) did not get done: the one error type of
 * the compute layer. `transient` says whether the same request may succeed later unchanged (libvirt or
 * Glance unreachable, disk full): those are retried with backoff, the rest are final.
 */
export class OperationFailed extends Error {
  override readonly name = 'OperationFailed';
  constructor(
    readonly uuid: string,
    /** Which step failed: prepare, define, image, drive, start; destroy, power_off, ... */
    readonly step: string,
    readonly transient: boolean,
    readonly reason: string,
    options?: { cause?: unknown; operation?: string },
  ) {
    super(`${options?.operation ?? 'spawn'} of instance ${uuid} failed at ${step}: ${reason}`, options);
  }
}

/**
 * The build failed on this host and was handed back to nova-conductor, which builds it on an alternate host
 * (Nova's RescheduledException): the message is settled, neither retried here nor dead-lettered.
 */
export class BuildRescheduled extends OperationFailed {
  constructor(uuid: string, step: string, reason: string, options?: { cause?: unknown }) {
    super(uuid, step, false, reason, options);
  }
}
