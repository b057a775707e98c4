/** The daemon's STATUS= line: what `systemctl status nova-spawnd` shows an operator at a glance. */

export interface DaemonState {
  /** Throws naming the broker connection(s) that are down (SpawnDaemon.checkBrokers). */
  checkBrokers(): void;
  /** Deliveries being handled now. */
  busy: number;
}

/** `registered`: null standalone; false while registering with the control plane, true once registered. */
export function daemonStatus(daemon: DaemonState, registered: boolean | null): string {
  let bus = 'connected to the broker, consuming';
  try {
    daemon.checkBrokers();
  } catch (error) {
    bus = `${(error as Error).message}, reconnecting`;
  }
  const builds = `${daemon.busy} ${daemon.busy === 1 ? 'build' : 'builds'} in flight`;
  const controlPlane = registered === null ? [] : [registered ? 'registered with the control plane' : 'registering with the control plane'];
  return [bus, builds, ...controlPlane].join('; ');
}
