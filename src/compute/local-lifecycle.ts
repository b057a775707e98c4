/**
 * The lifecycle operations of a host with no control plane (standalone): the driver's part alone, as Nova's
 * compute manager asks it of the driver (_power_off_instance: a clean shutdown waits [DEFAULT]
 * shutdown_timeout, asking again every [compute] shutdown_retry_interval). With a control plane, Nova's
 * bookkeeping wraps these.
 */
import type { InstanceCast } from '../nova/compute-casts.js';
import type { Lifecycle } from './compute-manager.js';
import type { InstanceDriver, PowerOffOptions, RebootType } from './driver.js';

export interface PowerOffTimes {
  /** [DEFAULT] shutdown_timeout (60 s). */
  shutdownTimeoutS: number;
  /** [compute] shutdown_retry_interval (10 s). */
  shutdownRetryIntervalS: number;
}

/**
 * _get_power_off_values: a clean stop waits the image's os_shutdown_timeout when it has one, else [DEFAULT]
 * shutdown_timeout, asking again every retry interval; an unclean one neither waits nor asks again.
 */
export function powerOffValues(times: PowerOffTimes, cleanShutdown: boolean, imageTimeoutS: number | null = null): PowerOffOptions {
  if (!cleanShutdown) return { timeoutS: 0, retryIntervalS: 0 };
  return { timeoutS: imageTimeoutS ?? times.shutdownTimeoutS, retryIntervalS: times.shutdownRetryIntervalS };
}

export class LocalLifecycle implements Lifecycle {
  constructor(
    private readonly driver: InstanceDriver,
    private readonly times: PowerOffTimes,
  ) {}

  terminate(target: InstanceCast): Promise<void> {
    return this.driver.destroy(target.uuid);
  }

  stop(target: InstanceCast, cleanShutdown: boolean): Promise<void> {
    return this.driver.powerOff(target.uuid, powerOffValues(this.times, cleanShutdown));
  }

  start(target: InstanceCast): Promise<void> {
    return this.driver.powerOn(target.uuid);
  }

  reboot(target: InstanceCast, rebootType: RebootType): Promise<void> {
    return this.driver.reboot(target.uuid, rebootType);
  }
}
