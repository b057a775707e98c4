/**
 * What the compute manager asks of the hypervisor for an instance's life after its spawn, as Nova's
 * ComputeDriver does (nova/virt/driver.py; the libvirt driver's destroy, power_off, power_on, reboot,
 * get_console_output, get_info, list_instance_uuids). Instances are named by uuid: their domain is found by
 * it, their files under instances_path by it. Every method is idempotent: an instance already in the state
 * asked for is a success, so a redelivered or retried operation finishes cleanly.
 */

/** nova.compute.power_state, as Instance.power_state holds it. */
export const POWER_STATE = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
} as const;
export type PowerState = (typeof POWER_STATE)[keyof typeof POWER_STATE];

export interface PowerOffOptions {
  /** Seconds to wait for the guest to shut itself down after an ACPI request; 0 powers off at once. */
  timeoutS: number;
  /** Seconds between repeated ACPI requests while waiting ([compute] shutdown_retry_interval, 10). */
  retryIntervalS: number;
}

export type RebootType = 'SOFT' | 'HARD';

export interface InstanceDriver {
  /**
   * driver.destroy(destroy_disks=True) and the instance's traces on this host: the domain powered off and
   * undefined, the instance directory (disks, drive, console log, metadata record) deleted, the instance
   * gone from the metadata service. Succeeds when some or all of it is gone already.
   */
  destroy(uuid: string): Promise<void>;
  /** power_off: an ACPI shutdown awaited up to timeoutS, then a hard power off. Shut off already: nothing to do. */
  powerOff(uuid: string, options: PowerOffOptions): Promise<void>;
  /** power_on: the defined domain started. Running already: nothing to do. */
  powerOn(uuid: string): Promise<void>;
  /**
   * reboot: SOFT as the libvirt driver's _soft_reboot (ACPI shutdown, wait up to [libvirt]
   * wait_soft_reboot_seconds for a new domain id or shut off, then start), falling back to HARD
   * (power off and start again) when the guest does not shut down.
   */
  reboot(uuid: string, type: RebootType): Promise<void>;
  /** get_console_output: the last 100 KiB of the guest's console log (MAX_CONSOLE_BYTES), empty when it has none. */
  consoleOutput(uuid: string): Promise<Buffer>;
  /** get_info(instance).state; NOSTATE when libvirt has no domain of it. */
  powerState(uuid: string): Promise<PowerState>;
  /** list_instance_uuids: the Nova instances libvirt has on this host, running or only defined. */
  listInstanceUuids(): Promise<string[]>;
}
