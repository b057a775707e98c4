/**
 * Whether what the daemon depends on answers: each probe resolves when its component answers and rejects
 * saying why not. Probes run together, each bounded by a timeout, and their report is kept for a moment, so
 * a health check that is polled often (a load balancer, systemd, an operator's curl loop) costs little and
 * never hangs on a component that hangs.
 */

/** Resolves when the component answers; rejects with an Error saying why it does not. */
export type HealthProbe = () => Promise<void>;

export interface ProbeResult {
  ok: boolean;
  /** Why not, when not ok. */
  error?: string;
}

export interface HealthReport {
  /** Every probe answered. */
  healthy: boolean;
  checks: Record<string, ProbeResult>;
}

export interface HealthOptions {
  /** A probe that has not answered within this has failed. Default 2000 ms. */
  timeoutMs?: number;
  /** A report is reused for this long after it was made. Default 1500 ms. */
  cacheMs?: number;
  nowMs?: () => number;
}

export class Health {
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly nowMs: () => number;
  private cached: { report: HealthReport; atMs: number } | null = null;
  /** The report being made: concurrent requests share it. */
  private making: Promise<HealthReport> | null = null;

  constructor(
    private readonly probes: Readonly<Record<string, HealthProbe>>,
    options: HealthOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.cacheMs = options.cacheMs ?? 1500;
    this.nowMs = options.nowMs ?? Date.now;
  }

  report(): Promise<HealthReport> {
    if (this.cached && this.nowMs() - this.cached.atMs < this.cacheMs) return Promise.resolve(this.cached.report);
    this.making ??= this.make().finally(() => (this.making = null));
    return this.making;
  }

  private async make(): Promise<HealthReport> {
    const names = Object.keys(this.probes);
    const results = await Promise.all(names.map((name) => this.run(this.probes[name]!)));
    const checks = Object.fromEntries(names.map((name, index) => [name, results[index]!]));
    const report = { healthy: results.every((result) => result.ok), checks };
    this.cached = { report, atMs: this.nowMs() };
    return report;
  }

  private async run(probe: HealthProbe): Promise<ProbeResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(probe), timeout]);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The daemon's probes: its broker connections are up, libvirt answers a call (its hostname), and, with a
 * control plane, nova-conductor answered the service's last call.
 */
export function daemonProbes(parts: {
  bus: { checkBrokers(): void };
  libvirt: { hostname(): Promise<string> };
  conductor: { checkConductor(): void } | null;
}): Record<string, HealthProbe> {
  const { bus, libvirt, conductor } = parts;
  return {
    broker: async () => bus.checkBrokers(),
    libvirt: async () => void (await libvirt.hostname()),
    ...(conductor ? { conductor: async () => conductor.checkConductor() } : {}),
  };
}
