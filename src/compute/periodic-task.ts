/**
 * A periodic task as oslo.service runs Nova's (periodic_task.periodic_task(spacing, run_immediately=True)):
 * first at start (or once what it needs is up), then every `spacing` seconds from the start of the previous
 * run, at once when a run took longer; never two runs at a time. A spacing of 0 is oslo's DEFAULT_INTERVAL
 * (60 s); a negative one disables the task. A failed run is logged; the next runs on time.
 */
import type { Logger } from '../log.js';

/** oslo.service's DEFAULT_INTERVAL, what a spacing of 0 means. */
const DEFAULT_INTERVAL_S = 60;

/** The seconds between runs of a task configured with `spacingS`; null: disabled. */
export function periodicSpacingS(spacingS: number): number | null {
  if (spacingS < 0) return null;
  return spacingS === 0 ? DEFAULT_INTERVAL_S : spacingS;
}

export class PeriodicTask {
  private readonly spacingS: number | null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    /** Nova's name for the task, for the log: _sync_power_states, ... */
    private readonly name: string,
    spacingS: number,
    private readonly task: () => Promise<void>,
    private readonly log: Logger,
  ) {
    this.spacingS = periodicSpacingS(spacingS);
  }

  /**
   * The first run at once, or once `after` resolves: as Nova's service starts its periodic tasks only after
   * its service record and RPC are up, a first run that cannot reach the conductor would be lost until the
   * next (a spacing away: 10 minutes for the power-state sync by default). A rejected `after` starts nothing.
   */
  start(after?: PromiseLike<unknown>): void {
    const spacingS = this.spacingS;
    if (spacingS === null) {
      this.log.info(`Skipping periodic task ${this.name} because its interval is negative`);
      return;
    }
    if (after === undefined) this.run(spacingS * 1000);
    else void Promise.resolve(after).then(() => this.run(spacingS * 1000), () => undefined);
  }

  /** No run after this; resolves once the run in flight has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.running;
  }

  private run(spacingMs: number): void {
    if (this.stopped) return;
    const began = Date.now();
    this.running = this.task().then(
      () => undefined,
      (error: unknown) => this.log.error(`Error during ${this.name}: ${(error as Error).message}`),
    );
    void this.running.then(() => {
      this.running = null;
      if (this.stopped) return;
      this.timer = setTimeout(() => this.run(spacingMs), Math.max(0, began + spacingMs - Date.now()));
      this.timer.unref?.();
    });
  }
}
