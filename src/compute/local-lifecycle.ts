/**
 * The lifecycle operations of a host with no control plane (standalone): the driver's part alone, as Nova's
 * compute manager asks it of the driver (_power_off_instance: a clean shutdown waits [DEFAULT]
 * shutdown_timeout, asking again every [compute] shutdown_retry_interval). With a control plane, Nova's
 * bookkeeping wraps these.
 */
import type { InstanceCast } from '../nova/compute-casts.js';
import type { Lifecycle } from './compute-manager.js';
import type { InstanceDriver, RebootType } from './driver.js';

export interface PowerOffTimes {
  /** [DEFAULT] shutdown_timeout (60 s). */
  shutdownTimeoutS: number;
  /** [compute] shutdown_retry_interval (10 s). */
  shutdownRetryIntervalS: number;
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
    // _get_power_off_values: an unclean stop neither waits nor asks again.
    const { shutdownTimeoutS, shutdownRetryIntervalS } = this.times;
    return this.driver.powerOff(target.uuid, cleanShutdown ? { timeoutS: shutdownTimeoutS, retryIntervalS: shutdownRetryIntervalS } : { timeoutS: 0, retryIntervalS: 0 });
  }

  start(target: InstanceCast): Promise<void> {
    return this.driver.powerOn(target.uuid);
  }

  reboot(target: InstanceCast, rebootType: RebootType): Promise<void> {
    return this.driver.reboot(target.uuid, rebootType);
  }
}
