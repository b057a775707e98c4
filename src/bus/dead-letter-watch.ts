/**
 * Keeps an eye on the dead-letter queue's depth against its bound ([nova_spawnd] dead_letter_max_length):
 * measured after each dead letter and once a minute, set as a metric, and a warning logged when a dead
 * letter lands in a queue at WARN_FRACTION of its bound or more (or a measure finds it has got there), so
 * that an operator hears of it before the queue refuses dead letters.
 */
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { DEAD_LETTER_QUEUE } from './topology.js';

export const WARN_FRACTION = 0.8;
const INTERVAL_MS = 60_000;

export interface DeadLetterWatchOptions {
  /** 0: unbounded, nothing to warn of (the depth is still measured). */
  maxLength: number;
  /** The queue's depth now; null when it cannot be measured (not connected). */
  depth: () => Promise<number | null>;
  log: Logger;
  metrics: Pick<Metrics, 'deadLetterQueueDepth'>;
}

export class DeadLetterWatch {
  private timer: NodeJS.Timeout | null = null;
  private above = false;

  constructor(private readonly options: DeadLetterWatchOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.measure(false), INTERVAL_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A dead letter was confirmed into the queue. */
  added(): Promise<void> {
    return this.measure(true);
  }

  /** Measures the depth; warns when it is at WARN_FRACTION or more, after a dead letter or on getting there. */
  async measure(afterDeadLetter: boolean): Promise<void> {
    const { maxLength, log } = this.options;
    let depth: number | null;
    try {
      depth = await this.options.depth();
    } catch (error) {
      log.debug(`could not measure ${DEAD_LETTER_QUEUE}: ${(error as Error).message}`);
      return;
    }
    if (depth === null) return;
    this.options.metrics.deadLetterQueueDepth(depth);
    const above = maxLength > 0 && depth >= maxLength * WARN_FRACTION;
    if (above && (afterDeadLetter || !this.above)) {
      const state = depth >= maxLength ? 'is full: the next dead letters are refused and their messages retried until there is room' : 'is filling up';
      log.warning(
        `dead-letter queue ${DEAD_LETTER_QUEUE} holds ${depth} of at most ${maxLength} messages (${Math.floor((100 * depth) / maxLength)}%) and ${state}; see nova-spawnd dead-letters list`,
        { depth, max_length: maxLength },
      );
    }
    this.above = above;
  }
}
