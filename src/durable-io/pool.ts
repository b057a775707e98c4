/**
 * The durable-io workers: a few threads that run operations.ts's blocking system calls, one operation at a
 * time each, so that a file written, synced and linked into place costs the event loop one round trip
 * instead of one libuv request per call. As many threads as libuv's pool has by default: fsync is what
 * they wait on, and as many syncs as that can be under way at once.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../version.js';
import { DurableIoFailed } from './durable-io-failed.js';
import { rebuildError, type Request, type Response } from './messages.js';
import type { OperationName, Operations } from './operations.js';

const THREADS = 4;

/**
 * The compiled worker, also when this module runs from the TypeScript sources (the tests, whose global
 * setup builds dist/ first): a worker thread cannot load TypeScript.
 */
const WORKER_SCRIPT = join(PACKAGE_ROOT, 'dist', 'src', 'durable-io', 'worker.js');

interface Task {
  request: Request;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

class DurableIoPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Task>();
  /** Workers that failed: whatever they still send is ignored. */
  private readonly lost = new WeakSet<Worker>();
  private readonly waiting: Task[] = [];
  private nextId = 0;

  run<K extends OperationName>(operation: K, ...args: Parameters<Operations[K]>): Promise<ReturnType<Operations[K]>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request: { id: this.nextId++, operation, args }, resolve: resolve as (value: unknown) => void, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      let worker: Worker | null;
      try {
        worker = this.idle.pop() ?? (this.busy.size < THREADS ? this.start() : null);
      } catch (error) {
        // No thread could be made (a task limit, memory): what waits fails now rather than never.
        for (const task of this.waiting.splice(0)) task.reject(new DurableIoFailed('no worker thread could start', error));
        return;
      }
      if (worker === null) return;
      const task = this.waiting.shift()!;
      this.busy.set(worker, task);
      // A worker with work keeps the process alive (a pending promise alone would not); an idle one does not.
      worker.ref();
      try {
        worker.postMessage(task.request);
      } catch (error) {
        this.busy.delete(worker);
        worker.unref();
        this.idle.push(worker);
        task.reject(error as Error);
      }
    }
  }

  private start(): Worker {
    // Not the process's own flags: some (--input-type, --eval's) make no sense for a worker and stop it loading.
    const worker = new Worker(WORKER_SCRIPT, { execArgv: [] });
    worker.on('message', (response: Response) => {
      const task = this.busy.get(worker);
      // A reply that comes after its worker was given up on has been answered already.
      if (this.lost.has(worker) || task?.request.id !== response.id) return;
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if ('error' in response) task.reject(rebuildError(response.error));
      else task.resolve(response.result);
      this.dispatch();
    });
    // A worker that dies (out of memory, a bug) fails its operation, not the daemon; the next one starts afresh.
    worker.on('error', (error) => this.lose(worker, new DurableIoFailed('a worker thread failed', error)));
    worker.on('messageerror', (error) => this.lose(worker, new DurableIoFailed('a reply could not be read', error)));
    worker.on('exit', (code) => this.lose(worker, new DurableIoFailed(`a worker thread exited with code ${code}`)));
    return worker;
  }

  private lose(worker: Worker, error: Error): void {
    if (this.lost.has(worker)) return;
    this.lost.add(worker);
    void worker.terminate();
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    const task = this.busy.get(worker);
    this.busy.delete(worker);
    task?.reject(error);
    this.dispatch();
  }
}

const pool = new DurableIoPool();

/** Runs `operation` on a durable-io worker. */
export function durableIo<K extends OperationName>(operation: K, ...args: Parameters<Operations[K]>): Promise<ReturnType<Operations[K]>> {
  return pool.run(operation, ...args);
}
