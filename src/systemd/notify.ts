/**
 * sd_notify(3) for `Type=notify`: READY=1, STATUS=, WATCHDOG=1, RELOADING=1, STOPPING=1 sent as datagrams to
 * $NOTIFY_SOCKET. Without NOTIFY_SOCKET (not started by systemd) every call does nothing.
 */
import type { Logger } from '../log.js';
import { DatagramSocket } from './datagram.js';

export interface NotifyEnvironment {
  /** $NOTIFY_SOCKET, or null when not started with one. */
  socket: string | null;
  /** Half of $WATCHDOG_USEC in ms (sd_watchdog_enabled's advice), or null when the watchdog is off for us. */
  watchdogPingMs: number | null;
  /** Why a watchdog variable was ignored, naming it and its value. */
  problem: string | null;
}

/** Reads what sd_notify and sd_watchdog_enabled read; WATCHDOG_PID, when set, must name this process. */
export function readNotifyEnvironment(env: NodeJS.ProcessEnv, pid: number): NotifyEnvironment {
  const socket = env['NOTIFY_SOCKET'] || null;
  const usec = env['WATCHDOG_USEC'];
  const watchdogPid = env['WATCHDOG_PID'];
  if (usec === undefined) return { socket, watchdogPingMs: null, problem: null };
  if (!/^[1-9][0-9]*$/.test(usec)) return { socket, watchdogPingMs: null, problem: `WATCHDOG_USEC=${usec} is not a positive number of microseconds: no watchdog pings` };
  if (watchdogPid !== undefined && watchdogPid !== String(pid)) return { socket, watchdogPingMs: null, problem: null };
  return { socket, watchdogPingMs: Math.max(1, Math.floor(Number(usec) / 2000)), problem: null };
}

/** One notification: NAME=value lines. A value is one line, so a newline in a STATUS becomes a space. */
export function notifyMessage(fields: Record<string, string>): Buffer {
  return Buffer.from(
    Object.entries(fields)
      .map(([name, value]) => `${name}=${value.replace(/[\r\n]+/g, ' ')}`)
      .join('\n'),
  );
}

/** CLOCK_MONOTONIC in µs (libuv's hrtime reads it), which RELOADING=1 carries since systemd 253. */
function monotonicUsec(): string {
  return String(process.hrtime.bigint() / 1000n);
}

export class SystemdNotifier {
  private readonly socket: DatagramSocket | null;
  private readonly timers: NodeJS.Timeout[] = [];
  private isReady = false;
  private lastStatus: string | null = null;
  private warned = false;

  /**
   * From the process's environment, which it then clears of NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID
   * (as sd_notify's unset_environment does) so the commands the daemon runs do not notify in its name.
   * Starts the watchdog pings at once: systemd arms the watchdog when start-up completes, or at the first ping,
   * and start-up may take a while (a broker away).
   */
  static fromEnvironment(env: NodeJS.ProcessEnv, log: Logger): SystemdNotifier {
    const read = readNotifyEnvironment(env, process.pid);
    for (const name of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[name];
    return new SystemdNotifier(read, log);
  }

  constructor(
    environment: NotifyEnvironment,
    private readonly log: Logger,
  ) {
    if (environment.problem) log.warning(environment.problem);
    this.socket = environment.socket === null ? null : this.open(environment.socket);
    if (this.socket && environment.watchdogPingMs !== null) {
      // From the event loop: a loop that hangs stops pinging, and systemd restarts us.
      this.timers.push(setInterval(() => this.send({ WATCHDOG: '1' }), environment.watchdogPingMs).unref());
      this.send({ WATCHDOG: '1' });
    }
  }

  /** Whether NOTIFY_SOCKET was given (and usable). */
  get enabled(): boolean {
    return this.socket !== null;
  }

  /** READY=1 with the status at that moment. */
  ready(status: string): void {
    this.isReady = true;
    this.lastStatus = status;
    this.send({ READY: '1', STATUS: status });
  }

  /** STATUS=, sent only when it differs from the last one. */
  status(status: string): void {
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    this.send({ STATUS: status });
  }

  /** Sends describe()'s status every `everyMs` when it changed, until close(). */
  watchStatus(describe: () => string, everyMs: number): void {
    if (!this.socket) return;
    this.timers.push(setInterval(() => this.status(describe()), everyMs).unref());
  }

  /**
   * RELOADING=1 around `reload`, then READY=1 again, as Type=notify(-reload) expects of SIGHUP; a reload
   * before READY=1 does not declare the daemon ready.
   */
  reloading(reload: () => void): void {
    this.send({ RELOADING: '1', MONOTONIC_USEC: monotonicUsec(), STATUS: 'reloading the configuration' });
    try {
      reload();
    } finally {
      if (this.isReady) this.send({ READY: '1', STATUS: this.lastStatus ?? 'running' });
    }
  }

  stopping(status: string): void {
    this.lastStatus = status;
    this.send({ STOPPING: '1', STATUS: status });
  }

  /** Stops the pings and closes the socket. */
  close(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    this.socket?.close();
  }

  private open(address: string): DatagramSocket | null {
    try {
      return new DatagramSocket(address);
    } catch (error) {
      this.log.warning(`NOTIFY_SOCKET=${address} not used: ${(error as Error).message}; systemd will not hear READY=1 or the watchdog`);
      return null;
    }
  }

  private send(fields: Record<string, string>): void {
    if (!this.socket) return;
    try {
      this.socket.send(notifyMessage(fields));
      this.warned = false;
    } catch (error) {
      // Once per run of failures: a watchdog ping every few seconds must not fill the log.
      if (!this.warned) this.log.warning(`systemd notification not sent: ${(error as Error).message}`, { fields: Object.keys(fields).join(',') });
      this.warned = true;
    }
  }
}
