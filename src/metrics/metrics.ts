/**
 * What the daemon's modules record for an operator to scrape: one interface, handed down from the
 * composition root to whoever records, with a no-op default so unit tests and one-shot commands (spawn,
 * drive) need nothing. Prometheus is one implementation of it (prometheus.ts); nothing records into a
 * global registry.
 */

/** The timed steps of a build, as an operator reads them (the spawn pipeline's, and the conductor's saves). */
export type BuildStep = 'image' | 'disks' | 'drive' | 'define' | 'start' | 'conductor_save';

/** A broker connection's state changes, for one connection (rpc, notifications, rpc_client). */
export interface BrokerMetrics {
  /** Connected (its setup done) or not: lost, or never reached yet. */
  connected(up: boolean): void;
  /** A connection established after an earlier one of the same name was lost. */
  reconnected(): void;
}

export interface Metrics {
  /** An operation of the compute manager (build, terminate, stop, ...) ended with `outcome` (done, retry, failed, ...). */
  operation(kind: string, outcome: string): void;
  /** A build attempt got its slot and runs; the returned function, called once at its end, records its duration and outcome. */
  buildStarted(): (outcome: string) => void;
  /** One step of a build (or a conductor save of any operation) took `seconds`. */
  step(step: BuildStep, seconds: number): void;
  /** A message went to the dead-letter queue for `reason` (RejectionReason). */
  deadLetter(reason: string): void;
  /** The broker refused a dead letter (the queue full or gone): its message stays to be retried. */
  deadLetterRefused(): void;
  /** The dead-letter queue holds `messages`, as just measured. */
  deadLetterQueueDepth(messages: number): void;
  /** The state of the broker connection named `connection`. */
  broker(connection: string): BrokerMetrics;
  /** nova-conductor answered a call of the service's heartbeat (or registration), or did not. */
  conductorAnswered(answered: boolean): void;
  /** An image was found in the local cache, or had to be downloaded. */
  imageCache(result: 'hit' | 'miss'): void;
  /** Bytes of an image received from Glance (counted as they arrive). */
  imageBytesDownloaded(bytes: number): void;
  /** The metadata API answered a request with HTTP `status`. */
  metadataRequest(status: number): void;
}

const noBroker: BrokerMetrics = { connected: () => undefined, reconnected: () => undefined };

export const NO_METRICS: Metrics = {
  operation: () => undefined,
  buildStarted: () => () => undefined,
  step: () => undefined,
  deadLetter: () => undefined,
  deadLetterRefused: () => undefined,
  deadLetterQueueDepth: () => undefined,
  broker: () => noBroker,
  conductorAnswered: () => undefined,
  imageCache: () => undefined,
  imageBytesDownloaded: () => undefined,
  metadataRequest: () => undefined,
};

/** `work`, its duration recorded as `step` whether it succeeds or fails. */
export async function timed<T>(metrics: Pick<Metrics, 'step'>, step: BuildStep, work: () => Promise<T>): Promise<T> {
  const began = process.hrtime.bigint();
  try {
    return await work();
  } finally {
    metrics.step(step, Number(process.hrtime.bigint() - began) / 1e9);
  }
}
