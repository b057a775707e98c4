/**
 * The durable-io workers: a few threads that run operations.ts's blocking system calls, one request at a
 * time each, so that a file written, synced and linked into place costs the event loop one round trip
 * instead of one libuv request per call. The calls made in one turn of the event loop (a spawn's drive and
 * its libvirt.xml) travel as one request, so a busy daemon wakes a worker, and is woken by it, once for
 * them all. As many threads as libuv's pool has by default: fsync is what they wait on, and as many syncs
 * as that can be under way at once.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../version.js';
import { DurableIoFailed } from './durable-io-failed.js';
import { rebuildError, type Call, type Request, type Response } from './messages.js';
import type { OperationName, Operations } from './operations.js';

const THREADS = 4;
/** A request's calls run one after another: the last of a long one would wait for every sync before it. */
const MAX_CALLS_PER_REQUEST = 8;

/**
 * The compiled worker, also when this module runs from the TypeScript sources (the tests, whose global
 * setup builds dist/ first): a worker thread cannot load TypeScript.
 */
const WORKER_SCRIPT = join(PACKAGE_ROOT, 'dist', 'src', 'durable-io', 'worker.js');

interface Task {
  call: Call;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** Sent in a request of its own: it was in one that could not be sent. */
  alone: boolean;
}

interface Sent {
  id: number;
  tasks: Task[];
}

class DurableIoPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Sent>();
  /** Workers that failed: whatever they still send is ignored. */
  private readonly lost = new WeakSet<Worker>();
  private readonly waiting: Task[] = [];
  private nextId = 0;
  private dispatchQueued = false;

  run<K extends OperationName>(operation: K, ...args: Parameters<Operations[K]>): Promise<ReturnType<Operations[K]>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ call: { operation, args }, resolve: resolve as (value: unknown) => void, reject, alone: false });
      if (this.dispatchQueued) return;
      this.dispatchQueued = true;
      queueMicrotask(() => {
        this.dispatchQueued = false;
        this.dispatch();
      });
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
      const sent = { id: this.nextId++, tasks: this.nextBatch() };
      this.busy.set(worker, sent);
      // A worker with work keeps the process alive (a pending promise alone would not); an idle one does not.
      worker.ref();
      try {
        worker.postMessage({ id: sent.id, calls: sent.tasks.map((task) => task.call) } satisfies Request);
      } catch (error) {
        this.busy.delete(worker);
        worker.unref();
        this.idle.push(worker);
        // Arguments that cannot be cloned: each call goes again on its own, so that only the culprit fails.
        if (sent.tasks.length === 1) sent.tasks[0]!.reject(error as Error);
        else this.waiting.unshift(...sent.tasks.map((task) => ({ ...task, alone: true })));
      }
    }
  }

  private nextBatch(): Task[] {
    let count = 1;
    if (!this.waiting[0]!.alone) {
      while (count < this.waiting.length && count < MAX_CALLS_PER_REQUEST && !this.waiting[count]!.alone) count++;
    }
    return this.waiting.splice(0, count);
  }

  private start(): Worker {
    // Not the process's own flags: some (--input-type, --eval's) make no sense for a worker and stop it loading.
    const worker = new Worker(WORKER_SCRIPT, { execArgv: [] });
    worker.on('message', (response: Response) => {
      const sent = this.busy.get(worker);
      // A reply that comes after its worker was given up on has been answered already.
      if (this.lost.has(worker) || sent?.id !== response.id) return;
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      sent.tasks.forEach((task, index) => {
        const outcome = response.outcomes[index];
        if (outcome === undefined) task.reject(new DurableIoFailed('a reply lacked the outcome of a call'));
        else if ('error' in outcome) task.reject(rebuildError(outcome.error));
        else task.resolve(outcome.result);
      });
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
    const sent = this.busy.get(worker);
    this.busy.delete(worker);
    for (const task of sent?.tasks ?? []) task.reject(error);
    this.dispatch();
  }
}

const pool = new DurableIoPool();

/** Runs `operation` on a durable-io worker. */
export function durableIo<K extends OperationName>(operation: K, ...args: Parameters<Operations[K]>): Promise<ReturnType<Operations[K]>> {
  return pool.run(operation, ...args);
}
