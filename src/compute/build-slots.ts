/** `[DEFAULT] max_concurrent_builds` as Nova's compute manager applies it: a semaphore around each build (0 = unlimited). */
export class BuildSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    this.free = limit;
  }

  /** Resolves with the function that gives the slot back. */
  async acquire(): Promise<() => void> {
    if (this.limit === 0) return () => undefined;
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
