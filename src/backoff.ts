/** Jittered exponential backoff, for reconnecting to the broker and for retrying a transiently failed spawn. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Each delay is up to this fraction shorter or longer than the exponential one (0..1). */
  jitter: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): initialMs doubling each time, capped at
 * maxMs, then spread by ±jitter so that many daemons that lost one broker do not come back in step.
 * The spread stays under maxMs.
 */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(backoff.maxMs / (1 + backoff.jitter), backoff.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (1 + backoff.jitter * (2 * random() - 1)));
}

/** Resolves after `ms`, or at once when `signal` aborts (to cut a wait short on shutdown). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
