/**
 * RPC calls out over oslo.messaging's rabbit driver, as a Nova service's RPCClient makes them (amqpdriver.py
 * _send with wait_for_reply): the message goes to the control exchange with the topic (or `<topic>.<server>`)
 * as routing key, carrying `_msg_id`, `_reply_q`, `_unique_id`, `_timeout` and the context; the reply comes
 * to the client's own reply queue and is matched by `_msg_id`. A connection of its own, as oslo keeps one for
 * its reply queue; the queue keeps its name across reconnects.
 */
import type { Logger } from '../log.js';
import type { BrokerMetrics } from '../metrics/metrics.js';
import type { Backoff } from '../backoff.js';
import { BrokerConnection, DEFAULT_RECONNECT, type BrokerSession } from './broker-connection.js';
import type { BrokerOptions } from './bus-options.js';
import { encodeEnvelope, packContext, uniqueId } from './oslo-envelope.js';
import { RpcCallError } from './rpc-call-error.js';
import { decodeRpcReply } from './rpc-reply.js';
import { declareTopology, replyQueueName, rpcClientTopology, type QueueMode, type Topology } from './topology.js';

/** Where a call goes and how it is dispatched there (oslo's Target, with prepare()'s timeout). */
export interface RpcTarget {
  topic: string;
  /** One server's queue, `<topic>.<server>`, instead of any server of the topic. */
  server?: string;
  /** The server's endpoint namespace (Nova's conductor: null for the object calls, `compute_task` for builds). */
  namespace: string | null;
  /** The API version the call needs of the server. */
  version: string;
  /** Instead of the client's rpc_response_timeout. */
  timeoutMs?: number;
}

export interface RpcClientOptions {
  broker: BrokerOptions;
  /** For logs and the connection's name in `rabbitmqctl list_connections`. */
  name: string;
  controlExchange: string;
  queueMode: QueueMode;
  /** `[DEFAULT] rpc_response_timeout` (oslo's default 60 s): how long a call waits for its reply. */
  responseTimeoutMs: number;
  log: Logger;
  /** Default DEFAULT_RECONNECT. */
  reconnect?: Backoff;
  connectTimeoutMs?: number;
  /** The connection's state changes; default none. */
  metrics?: BrokerMetrics;
}

interface PendingCall {
  call: string;
  /** The last non-null result: oslo's older servers sent it before an empty `ending` reply. */
  result: unknown;
  settle(outcome: { result: unknown } | { error: RpcCallError }): void;
}

export class RpcClient {
  private readonly connection: BrokerConnection;
  private readonly replyQueue = replyQueueName();
  private readonly topology: Topology;
  private readonly pending = new Map<string, PendingCall>();
  /** Whether the current connection reads the reply queue: calls are refused while it does not. */
  private consuming = false;

  constructor(private readonly options: RpcClientOptions) {
    if (!(options.responseTimeoutMs > 0) || !Number.isFinite(options.responseTimeoutMs)) {
      throw new Error(`RPC client ${options.name}: responseTimeoutMs must be a positive number of milliseconds (got ${options.responseTimeoutMs})`);
    }
    this.topology = rpcClientTopology({ controlExchange: options.controlExchange, queueMode: options.queueMode, replyQueue: this.replyQueue });
    this.connection = new BrokerConnection({
      ...options.broker,
      name: options.name,
      reconnect: options.reconnect ?? DEFAULT_RECONNECT,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      log: options.log,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      setup: (session) => this.setup(session),
    });
  }

  /** Connects in the background, reconnecting whenever the connection is lost. */
  start(): void {
    this.connection.start();
  }

  /** Resolves once calls can be made. */
  async ready(): Promise<void> {
    await this.connection.connected();
  }

  /**
   * Calls `method` on a server of `target` and resolves with its result (still serialized, as the server's
   * serializer made it). Rejects with RpcCallError: MessagingTimeout when no reply came in time,
   * ConnectionLost when the broker connection is down or went away before the reply came, RemoteError with
   * the server's exception.
   */
  call(target: RpcTarget, context: Record<string, unknown>, method: string, args: Record<string, unknown>): Promise<unknown> {
    const routingKey = routingKeyOf(target);
    const call = `${method} to ${routingKey}`;
    if (!this.consuming) return Promise.reject(new RpcCallError('ConnectionLost', call, `not connected to the ${this.options.name} broker`));
    const msgId = uniqueId();
    const timeoutMs = target.timeoutMs ?? this.options.responseTimeoutMs;
    const outcome = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(
        () => pending.settle({ error: new RpcCallError('MessagingTimeout', call, `Timed out waiting for a reply to message ID ${msgId} after ${timeoutMs} ms`) }),
        timeoutMs,
      );
      const pending: PendingCall = {
        call,
        result: null,
        settle: (settled) => {
          clearTimeout(timer);
          this.pending.delete(msgId);
          if ('error' in settled) reject(settled.error);
          else resolve(settled.result);
        },
      };
      // Listening before publishing, as oslo does: a fast reply finds its caller.
      this.pending.set(msgId, pending);
    });
    const message = {
      method,
      args,
      ...(target.namespace === null ? {} : { namespace: target.namespace }),
      version: target.version,
      _msg_id: msgId,
      _reply_q: this.replyQueue,
      // oslo's call_monitor_timeout: none, so the server sends no heartbeats.
      _timeout: null,
      _unique_id: uniqueId(),
      ...packContext(context),
    };
    // kombu's defaults as oslo's topic_send uses them; the message expires when its caller stops waiting.
    const properties = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, expiration: String(timeoutMs) };
    this.connection.publish(this.options.controlExchange, routingKey, encodeEnvelope(message), properties).catch((error: unknown) => {
      this.pending.get(msgId)?.settle({ error: new RpcCallError('ConnectionLost', call, (error as Error).message) });
    });
    return outcome;
  }

  /**
   * Casts `method` to a server of `target` (amqpdriver _send without wait_for_reply: no _msg_id, no reply
   * queue, no expiry). Resolves once the broker has confirmed the message, so a caller may then ack the work
   * it hands over; rejects with RpcCallError ConnectionLost when the broker did not take it.
   */
  async cast(target: RpcTarget, context: Record<string, unknown>, method: string, args: Record<string, unknown>): Promise<void> {
    const routingKey = routingKeyOf(target);
    const message = {
      method,
      args,
      ...(target.namespace === null ? {} : { namespace: target.namespace }),
      version: target.version,
      _unique_id: uniqueId(),
      ...packContext(context),
    };
    try {
      await this.connection.publish(this.options.controlExchange, routingKey, encodeEnvelope(message), { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 });
    } catch (error) {
      throw new RpcCallError('ConnectionLost', `${method} to ${routingKey}`, (error as Error).message);
    }
  }

  /** Fails the calls still waiting (retryable: they may not have run) and closes the connection. */
  async close(): Promise<void> {
    this.failPending('the RPC client was closed');
    await this.connection.close();
  }

  private async setup(session: BrokerSession): Promise<void> {
    const channel = await session.model.createChannel();
    channel.on('error', (error: Error) => session.fail(`reply channel failed: ${error.message}`));
    channel.on('close', () => {
      this.consuming = false;
      this.failPending('the broker connection was lost before the reply came');
    });
    await declareTopology(channel, this.topology);
    // No acks: a reply is read once, by the only caller waiting for it (oslo acks each at once).
    await channel.consume(this.replyQueue, (delivery) => {
      if (delivery === null) session.fail(`the broker cancelled the consumer of ${this.replyQueue}`);
      else this.onReply(delivery.content, delivery.properties.contentType as string | undefined);
    }, { noAck: true });
    this.consuming = true;
  }

  private onReply(body: Buffer, contentType: string | undefined): void {
    let reply;
    try {
      reply = decodeRpcReply(body, contentType);
    } catch (error) {
      this.options.log.warning(`dropping an unreadable reply: ${(error as Error).message}`, { queue: this.replyQueue });
      return;
    }
    const pending = this.pending.get(reply.msgId);
    if (!pending) {
      // Its caller timed out or lost its connection (oslo: "No calling threads waiting for msg_id").
      this.options.log.debug('dropping a reply nobody waits for', { msg_id: reply.msgId });
      return;
    }
    if (reply.failure) {
      const { module, className, message } = reply.failure;
      pending.settle({ error: new RpcCallError('RemoteError', pending.call, `${module}.${className}: ${message}`, reply.failure) });
      return;
    }
    if (reply.result !== null) pending.result = reply.result;
    if (reply.ending) pending.settle({ result: pending.result });
  }

  private failPending(reason: string): void {
    for (const pending of [...this.pending.values()]) pending.settle({ error: new RpcCallError('ConnectionLost', pending.call, reason) });
  }
}

/** `<topic>`, or `<topic>.<server>` for one server's queue. */
function routingKeyOf(target: RpcTarget): string {
  return target.server === undefined ? target.topic : `${target.topic}.${target.server}`;
}
