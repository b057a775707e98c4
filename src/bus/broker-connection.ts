/**
 * One logical connection to RabbitMQ that outlives broker restarts: it connects to the brokers of
 * transport_url in turn, runs `setup` (declarations, consumers) on every new connection, and when the
 * connection drops it reconnects after a jittered exponential backoff. Every connection gets one confirm
 * channel for publishing; publish() resolves only once the broker has confirmed the message.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import amqp, { type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import type { Logger } from '../log.js';
import type { BrokerMetrics } from '../metrics/metrics.js';
import { backoffDelay, sleep, type Backoff } from '../backoff.js';
import type { BrokerOptions } from './bus-options.js';
import { publishConfirmed } from './confirmed-publish.js';
import { ConnectionLost } from './connection-lost.js';
import type { BrokerAddress } from './transport-url.js';

export interface BrokerSession {
  readonly model: ChannelModel;
  /** Counts connections: work begun on an earlier one knows its channels are gone. */
  readonly generation: number;
  readonly broker: BrokerAddress;
  readonly publisher: ConfirmChannel;
  /** Drops this connection (a channel failed under it); the loop reconnects. */
  fail(reason: string): void;
}

export interface BrokerConnectionOptions extends BrokerOptions {
  /** For logs and the connection's name in `rabbitmqctl list_connections`. */
  name: string;
  reconnect: Backoff;
  /** A TCP connect or AMQP handshake that takes longer than this counts as failed. */
  connectTimeoutMs: number;
  log: Logger;
  /** Runs on every new connection; if it throws, the connection is dropped and retried like a lost one. */
  setup: (session: BrokerSession) => Promise<void>;
  /** Told when the connection comes up (its setup done) and goes down. */
  metrics?: BrokerMetrics;
}

export const DEFAULT_RECONNECT: Backoff = { initialMs: 1000, maxMs: 30_000, jitter: 0.2 };

function describeBroker(broker: BrokerAddress): string {
  return `${broker.hostname}:${broker.port}${broker.vhost === '/' ? '' : `/${broker.vhost}`}`;
}

export class BrokerConnection {
  /** The open connection, from before its setup ends (for publishing) until it closes. */
  private current: BrokerSession | null = null;
  /** Whether `current` has completed its setup. */
  private established = false;
  /** Whether a connection was ever set up: the next one is a reconnect. */
  private wasEstablished = false;
  private generation = 0;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly waiters: ((session: BrokerSession) => void)[] = [];

  constructor(private readonly options: BrokerConnectionOptions) {
    if (options.brokers.length === 0) throw new Error(`broker connection ${options.name}: no broker to connect to`);
  }

  /** Starts connecting in the background; connected() tells when it has. */
  start(): void {
    this.loop ??= this.run();
  }

  get session(): BrokerSession | null {
    return this.current;
  }

  /** Whether a connection is up and its setup done: what the health check asks. */
  get isConnected(): boolean {
    return this.current !== null && this.established;
  }

  /** Resolves with the first session that has completed its setup. */
  connected(): Promise<BrokerSession> {
    if (this.current && this.established) return Promise.resolve(this.current);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Publishes on the current connection and waits for the broker's confirm (confirmed-publish.ts):
   * PublishRefused when the broker nacked or returned it, ConnectionLost when the connection went first.
   */
  async publish(exchange: string, routingKey: string, body: Buffer, properties: Options.Publish): Promise<void> {
    const session = this.current;
    if (!session) throw new ConnectionLost(`publish to ${exchange === '' ? 'the default exchange' : exchange} (${routingKey})`, `not connected to the ${this.options.name} broker`);
    await publishConfirmed(session.publisher, exchange, routingKey, body, properties);
  }

  /** Stops reconnecting and closes the connection. */
  async close(): Promise<void> {
    this.stopping.abort();
    const session = this.current;
    this.current = null;
    await session?.model.close().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    const { brokers, reconnect, log } = this.options;
    let failures = 0;
    let next = 0;
    while (!this.stopping.signal.aborted) {
      const broker = brokers[next % brokers.length]!;
      let opened: BrokerSession | null = null;
      try {
        const { session, closed } = await this.open(broker);
        opened = session;
        // Current before its setup ends: the consumers it starts get messages at once, and may publish.
        this.current = session;
        await this.options.setup(session);
        if (this.stopping.signal.aborted) {
          this.current = null;
          await session.model.close().catch(() => undefined);
          break;
        }
        failures = 0;
        this.established = true;
        this.options.metrics?.connected(true);
        if (this.wasEstablished) this.options.metrics?.reconnected();
        this.wasEstablished = true;
        log.info(`connected to ${describeBroker(broker)}`, { connection: this.options.name, generation: session.generation });
        for (const resolve of this.waiters.splice(0)) resolve(session);
        const error = await closed;
        this.current = null;
        this.established = false;
        this.options.metrics?.connected(false);
        if (this.stopping.signal.aborted) break;
        log.warning(`connection to ${describeBroker(broker)} lost${error ? `: ${error.message}` : ''}; reconnecting`, { connection: this.options.name });
      } catch (error) {
        this.current = null;
        failures++;
        next++;
        log.warning(`cannot connect to ${describeBroker(broker)}: ${(error as Error).message}`, { connection: this.options.name, attempt: failures });
        // A setup that failed on an open connection must not leave it open.
        await opened?.model.close().catch(() => undefined);
      }
      if (this.stopping.signal.aborted) break;
      const delay = backoffDelay(reconnect, Math.max(1, failures));
      log.debug(`next connection attempt in ${delay} ms`, { connection: this.options.name });
      await sleep(delay, this.stopping.signal);
    }
  }

  private async open(broker: BrokerAddress): Promise<{ session: BrokerSession; closed: Promise<Error | undefined> }> {
    const { tls, heartbeatSeconds, connectTimeoutMs, name, log } = this.options;
    const model = await amqp.connect(
      {
        protocol: tls ? 'amqps' : 'amqp',
        hostname: broker.hostname,
        port: broker.port,
        username: broker.username,
        password: broker.password,
        vhost: broker.vhost,
        heartbeat: heartbeatSeconds,
      },
      // Without noDelay, Nagle's algorithm holds each small frame (an ack, a publish) for the peer's delayed ACK: ~40 ms.
      { ...tlsSocketOptions(this.options), noDelay: true, timeout: connectTimeoutMs, clientProperties: { connection_name: name } },
    );
    let closeError: Error | undefined;
    model.on('error', (error: Error) => (closeError = error));
    model.on('blocked', (reason: string) => log.warning(`the broker blocked the connection: ${reason}`, { connection: name }));
    model.on('unblocked', () => log.info('the broker unblocked the connection', { connection: name }));
    const closed = new Promise<Error | undefined>((resolve) => model.once('close', () => resolve(closeError)));
    const fail = (reason: string): void => {
      log.warning(`dropping the connection: ${reason}`, { connection: name });
      void model.close().catch(() => undefined);
    };
    try {
      const publisher = await model.createConfirmChannel();
      publisher.on('error', (error: Error) => fail(`publishing channel failed: ${error.message}`));
      return { session: { model, generation: ++this.generation, broker, publisher, fail }, closed };
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
  }
}

/**
 * impl_rabbit.py _fetch_ssl_params: client certificate and key when given; the broker's certificate is
 * verified only against an explicit CA file, and never its host name (ssl_enforce_hostname_verification
 * is off by default in oslo and not an option here).
 */
function tlsSocketOptions(options: BrokerOptions): ConnectionOptions {
  const { tls } = options;
  if (!tls) return {};
  return {
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
    ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
    rejectUnauthorized: tls.caFile !== null,
    checkServerIdentity: () => undefined,
  };
}
