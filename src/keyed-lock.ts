/**
 * One holder per key at a time, the others queued in arrival order (oslo.concurrency's lockutils.lock(name)
 * within one process, as Nova takes `synchronized(instance.uuid)` and `refresh_cache-<uuid>`). A key with no
 * holder and no one waiting takes no memory.
 */
export class KeyedLock {
  /** The last work queued on each key with work running or waiting. */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Keys with work running or waiting. */
  get size(): number {
    return this.tails.size;
  }

  /** Runs `work` once every earlier work on `key` has settled; settles as `work` does. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }
}
