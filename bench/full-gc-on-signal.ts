/**
 * Preloaded into the daemon by bench/spawn-delete.ts (`node --expose-gc --import`): on SIGUSR2 a full garbage
 * collection of the main thread, then a line on stderr saying so. What is resident after it is what the daemon
 * keeps, not what it has dropped and V8 not yet collected (an idle daemon allocates nothing, so nothing
 * triggers a collection: the resident size it sits at depends on when its last one ran).
 */
import { isMainThread } from 'node:worker_threads';

export const FULL_GC_DONE = 'bench: full garbage collection done';

if (isMainThread) {
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc!();
    process.stderr.write(`${FULL_GC_DONE}\n`);
  });
}
