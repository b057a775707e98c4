/**
 * What happens to one delivery, at least once and never twice: decode it, hand the operation it asks for to
 * the compute manager (the one owner of the instances, which serialises, retries and remembers), and only
 * then ack, or dead-letter it with the reason and then ack. Unlike oslo.messaging (which acks a cast before
 * dispatching it), a crash or a lost connection leaves the message unacked, and the broker delivers it
 * again. A message delivered again (same `_unique_id`; without one, the same body flagged redelivered) is
 * acked without a second operation; after a restart that memory is gone and the manager's and the
 * driver's own idempotence per instance uuid takes over.
 *
 * The fate of a message is decided once; what follows from it (dead-letter, retry, notification, RPC reply,
 * ack) are steps that a later delivery of the same message finishes if the connection dropped halfway.
 *
 * An operation the manager wants tried again waits out its backoff in the broker, not here: a copy of the
 * message, with the attempts made in a header, goes to a retry queue whose messages expire back into
 * compute.<host>, and the original is acked once the broker has confirmed the copy. The wait holds no build
 * slot, no prefetch credit and no memory, and survives a restart of the daemon.
 */
import { createHash } from 'node:crypto';
import type { MessageProperties, Options } from 'amqplib';
import type { ComputeManager, InstanceOperation, OperationOutcome } from '../compute/compute-manager.js';
import { requestLogContext, type Logger, type LogContext } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { BUILD_AND_RUN_INSTANCE } from '../nova/build-and-run-instance.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { backoffDelay, sleep, type Backoff } from '../backoff.js';
import { BoundedMap } from '../bounded-map.js';
import { ConnectionLost } from './connection-lost.js';
import type { DeadLetterWatch } from './dead-letter-watch.js';
import type { PayloadSource } from './instance-create-payload.js';
import { messageHints, NO_HINTS, type MessageHints } from './message-hints.js';
import { MessageTooLarge } from './message-too-large.js';
import { PublishRefused } from './publish-refused.js';
import type { InstanceCreateEvent } from './notifier.js';
import { decodeBody, type DecodedBody, type OsloMessage } from './oslo-envelope.js';
import { deadLetterHeaders, notificationFault, rejectionFor, remoteFailure, type Rejection } from './rejection.js';
import { rpcReplyBody } from './rpc-reply.js';
import { operationOf } from './spawn-message.js';
import { DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, retryQueueName } from './topology.js';

/** One message as the consumer sees it, with the channel it came on hidden behind ack/requeue. */
export interface Delivery {
  body: Buffer;
  properties: MessageProperties;
  exchange: string;
  routingKey: string;
  redelivered: boolean;
  /** False once the channel it came on has closed: its ack can no longer be sent. */
  isOpen(): boolean;
  /** False when the channel has closed (the broker will deliver the message again). */
  ack(): boolean;
  requeue(): boolean;
}

export interface Publisher {
  publish(exchange: string, routingKey: string, body: Buffer, properties: Options.Publish): Promise<void>;
}

export interface SpawnConsumerOptions {
  host: string;
  /** Larger bodies are dead-lettered unread. */
  maxMessageBytes: number;
  /** Messages remembered for duplicate detection. */
  memory: number;
}

export interface SpawnConsumerDeps {
  /** The owner of the instances, which every operation is handed to. */
  compute: Pick<ComputeManager, 'perform' | 'stop'>;
  /** Confirmed publishing on the connection the messages come from (dead letters, RPC replies). */
  publisher: Publisher;
  /** null when notifications are off. */
  notify: ((event: InstanceCreateEvent) => Promise<void>) | null;
  /**
   * Compute API methods that only read the host, answered with their result (get_host_uptime, which
   * nova-api asks for `openstack hypervisor show`; `baseapi.ping`, a namespace's method so named); a cast of
   * one is acked. Handed the call's arguments.
   */
  queries?: Readonly<Record<string, (args: Record<string, unknown>) => Promise<unknown>>>;
  log: Logger;
  now?: () => Date;
  /** Dead letters by reason, and those refused; default none. */
  metrics?: Pick<Metrics, 'deadLetter' | 'deadLetterRefused'>;
  /** Told of each dead letter the broker confirmed (it measures the queue against its bound). */
  deadLetterQueue?: Pick<DeadLetterWatch, 'added'>;
}

/**
 * Far above any real build_and_run_instance (Nova caps user_data at 64 KiB and personality files at a few
 * KiB each), far below RabbitMQ's own limit: a body this large is refused before it is parsed.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MEMORY = 10_000;
/** The pause before a message whose dead letter or retry copy the broker refused goes back to the queue. */
const REQUEUE_PAUSE: Backoff = { initialMs: 2000, maxMs: 60_000, jitter: 0.2 };

/** On a copy in a retry queue: how many attempts its spawn has made. */
export const ATTEMPTS_HEADER = 'x-nova-spawnd-attempts';
/** On a message replayed from the dead-letter queue: the dead letter's id (a message of its own, not a duplicate). */
export const REPLAY_HEADER = 'x-nova-spawnd-replay-of';

type StepKind = 'dead-letter' | 'retry' | 'notification' | 'reply';

interface Step {
  kind: StepKind;
  run(): Promise<void>;
}

/** The decided fate of one message: the steps still to do before its ack. */
class Fate {
  readonly steps: Step[] = [];
  /** Settling is serial per message: a redelivery waits for the first delivery's steps. */
  private settling: Promise<unknown> = Promise.resolve();
  readonly decided: Promise<'settle' | 'abandoned'>;
  decide!: (outcome: 'settle' | 'abandoned') => void;
  /** The instance.create.start notification, published while the spawn runs: the end or error one waits for it. */
  startNotified: Promise<void> = Promise.resolve();

  constructor(readonly log: LogContext) {
    this.decided = new Promise((resolve) => (this.decide = resolve));
  }

  serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.settling.then(work, work);
    this.settling = run.catch(() => undefined);
    return run;
  }

  /** The fate of a message acked before: nothing to do but ack it again. */
  static acked(log: LogContext): Fate {
    const fate = new Fate(log);
    fate.decide('settle');
    return fate;
  }
}

/**
 * All that is remembered of a message once its steps are done and its ack sent. Its Fate (promises, closures,
 * log context) kept a settled message at about 870 bytes of heap, its key alone about 260: 8.5 MiB against
 * 2.5 at the default memory of 10,000 messages, which a daemon that builds and deletes (bench/spawn-delete.ts)
 * fills after 5,000 instances.
 */
const ACKED = Symbol('acked');

interface Parsed {
  key: string;
  /** This delivery's attempt at its spawn: 1, or one more than its ATTEMPTS_HEADER says. */
  attempt: number;
  /** Whether the key is the sender's `_unique_id` (a resend is a duplicate even when not flagged redelivered). */
  senderKey: boolean;
  decoded: DecodedBody | null;
  error: unknown;
  hints: MessageHints;
}

export class SpawnConsumer {
  /** Messages by key (see parse): their fate while they are handled, ACKED after. */
  private readonly fates: BoundedMap<string, Fate | typeof ACKED>;
  private readonly stopping = new AbortController();
  private readonly now: () => Date;
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private sequence = 0;

  constructor(
    private readonly options: SpawnConsumerOptions,
    private readonly deps: SpawnConsumerDeps,
  ) {
    this.fates = new BoundedMap(options.memory);
    this.now = deps.now ?? (() => new Date());
  }

  /** Deliveries being handled now. */
  get busy(): number {
    return this.inFlight;
  }

  /** Handles one delivery to its end; never rejects (a failure is logged and the message left to the broker). */
  async handle(delivery: Delivery): Promise<void> {
    this.inFlight++;
    try {
      await this.process(delivery);
    } catch (error) {
      this.deps.log.error('unexpected failure while handling a message', {}, error);
      await this.quarantine(delivery, error);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /**
   * After a failure of the daemon itself: the message goes to the dead-letter queue as internal-error, so
   * that it is neither lost nor retried in a loop, nor left unacked holding a prefetch slot.
   */
  private async quarantine(delivery: Delivery, error: unknown): Promise<void> {
    try {
      await this.deadLetterStep(rejectionFor(error, NO_HINTS, 0), delivery, new Fate({})).run();
      delivery.ack();
    } catch (failure) {
      this.deps.log.error(`the message could not be dead-lettered either and stays unacked: ${(failure as Error).message}`);
    }
  }

  /** No more operations start: messages waiting for one are left unacked, for the broker to deliver again. */
  stop(): void {
    this.stopping.abort();
    this.deps.compute.stop();
  }

  /** Resolves when no delivery is being handled. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async process(delivery: Delivery): Promise<void> {
    const { log } = this.deps;
    const parsed = this.parse(delivery);
    const known = this.fates.get(parsed.key);
    if (known && (parsed.senderKey || delivery.redelivered)) {
      const fate = known === ACKED ? Fate.acked(logContext(parsed.hints)) : known;
      log.info('duplicate delivery of a message already handled: acking without a second spawn', { ...fate.log, redelivered: delivery.redelivered });
      if ((await fate.decided) === 'abandoned') return;
      await this.settle(fate, delivery);
      return;
    }
    // The same body published again (not a redelivery) is a message of its own.
    const key = known ? `${parsed.key}#${++this.sequence}` : parsed.key;
    const fate = new Fate(logContext(parsed.hints));
    this.fates.set(key, fate);
    log.debug('message received', { ...fate.log, routing_key: delivery.routingKey, redelivered: delivery.redelivered, bytes: delivery.body.length });
    let outcome: 'settle' | 'abandoned' = 'abandoned';
    try {
      outcome = await this.decide(fate, parsed, delivery);
    } finally {
      fate.decide(outcome);
      if (outcome === 'abandoned') this.fates.delete(key);
    }
    if (outcome !== 'settle') return;
    await this.settle(fate, delivery);
    // Steps left undone (the connection dropped) wait for the next delivery in the fate.
    if (fate.steps.length === 0 && this.fates.get(key) === fate) this.fates.set(key, ACKED);
  }

  private parse(delivery: Delivery): Parsed {
    const attempt = attemptOf(delivery);
    // A copy back from a retry queue is the same message at a later attempt, a replayed dead letter the same
    // message once more: each a message of its own.
    const replay = delivery.properties.headers?.[REPLAY_HEADER] as unknown;
    const replayed = (key: string): string => (typeof replay === 'string' ? `${key}@replay:${replay}` : key);
    const keyed = (key: string): string => replayed(attempt === 1 ? key : `${key}@${attempt}`);
    const bodyKey = (): string => keyed(`sha256:${createHash('sha256').update(delivery.body).digest('hex')}`);
    if (delivery.body.length > this.options.maxMessageBytes) {
      return { key: bodyKey(), attempt, senderKey: false, decoded: null, error: new MessageTooLarge(delivery.body.length, this.options.maxMessageBytes), hints: NO_HINTS };
    }
    try {
      const decoded = decodeBody(delivery.body, delivery.properties.contentType as string | undefined);
      const uniqueId = decoded.kind === 'oslo' ? decoded.message.unique_id : null;
      return { key: uniqueId === null ? bodyKey() : keyed(uniqueId), attempt, senderKey: uniqueId !== null, decoded, error: null, hints: messageHints(decoded) };
    } catch (error) {
      return { key: bodyKey(), attempt, senderKey: false, decoded: null, error, hints: NO_HINTS };
    }
  }

  /** Works out the message's fate and queues its steps; 'abandoned' when the daemon stopped first. */
  private async decide(fate: Fate, parsed: Parsed, delivery: Delivery): Promise<'settle' | 'abandoned'> {
    const oslo = parsed.decoded?.kind === 'oslo' ? parsed.decoded.message : null;
    const query = oslo !== null && parsed.error === null ? this.deps.queries?.[queryKey(oslo)] : undefined;
    if (query !== undefined) return this.answer(fate, oslo!, () => query(oslo!.args), delivery, parsed.hints);
    let operation: InstanceOperation;
    try {
      if (parsed.error !== null) throw parsed.error;
      operation = operationOf(parsed.decoded!);
    } catch (error) {
      const rejection = rejectionFor(error, parsed.hints, 0);
      // instance.create.error only for a create: another method's instance may well be running.
      const create = rejection.instanceUuid !== null && (oslo === null || oslo.method === BUILD_AND_RUN_INSTANCE);
      const source: PayloadSource = { uuid: rejection.instanceUuid!, context: contextIds(parsed.hints.context) };
      this.reject(fate, rejection, delivery, oslo, create ? { source, context: parsed.hints.context } : null);
      return 'settle';
    }
    // A replayed dead letter is no first delivery either: its instance may have moved on since.
    if (operation.kind === 'build') operation = { ...operation, redelivered: delivery.redelivered || delivery.properties.headers?.[REPLAY_HEADER] !== undefined };
    const build = operation.kind === 'build' ? operation.request : null;
    if (build) Object.assign(fate.log, { instance: build.instance.uuid, ...requestLogContext(build.context) });
    const context = oslo?.context ?? { ...build!.context };
    const outcome = await this.deps.compute.perform(operation, parsed.attempt, {
      // Published now and confirmed while the guest is built: the spawn does not wait for the broker.
      buildStarts: () => void (fate.startNotified = this.notify({ phase: 'start', source: { request: build! }, context }, fate)),
    });
    return this.conclude(fate, outcome, { build, oslo, context, delivery, hints: parsed.hints, attempt: parsed.attempt, what: operation.kind });
  }

  /**
   * Queues the steps that follow from an operation's outcome: the ack (with the reply of a call and a
   * build's end notification), a copy to a retry queue, or a dead letter; a build rescheduled elsewhere, or
   * stopped because its instance was deleted, is acked with its error notification.
   */
  private conclude(
    fate: Fate,
    outcome: OperationOutcome,
    message: { build: SpawnRequest | null; oslo: OsloMessage | null; context: Record<string, unknown>; delivery: Delivery; hints: MessageHints; attempt: number; what: string },
  ): 'settle' | 'abandoned' {
    const { build, oslo, context, delivery, attempt } = message;
    const notification = build ? { source: { request: build }, context } : null;
    const hints = build ? { ...message.hints, instanceUuid: build.instance.uuid, requestId: build.context.request_id } : message.hints;
    switch (outcome.kind) {
      case 'abandoned':
        return 'abandoned';
      case 'done': {
        const { spawn } = outcome;
        const done = outcome.fresh ? `${message.what} done: acking` : `${message.what} done before: acking without a second ${message.what === 'build' ? 'spawn' : message.what}`;
        this.deps.log.info(spawn ? `instance ${spawn.outcome}: acking` : done, { ...fate.log, ...(spawn ? { domain: spawn.domain } : {}) });
        this.succeed(fate, oslo, notification && spawn && outcome.fresh ? { ...notification, phase: 'end', domain: spawn.domain } : null, outcome.result ?? null);
        return 'settle';
      }
      case 'rescheduled':
        // Nova notifies instance.create.error on the host that failed before it reschedules.
        this.deps.log.info(`rescheduled to another host by the conductor: acking (${outcome.error.reason})`, fate.log);
        if (notification) fate.steps.push(this.notificationStep({ ...notification, phase: 'error', fault: notificationFault(rejectionFor(outcome.error, hints, attempt)) }, fate));
        return 'settle';
      case 'stopped':
        // Nova's manager returns without an error; a build's instance.create.error says why it stopped.
        this.deps.log.info(`${message.what} stopped, nothing left to do: acking (${outcome.error.reason})`, fate.log);
        if (notification) fate.steps.push(this.notificationStep({ ...notification, phase: 'error', fault: notificationFault(rejectionFor(outcome.error, hints, attempt)) }, fate));
        return 'settle';
      case 'retry':
        fate.steps.push(this.retryStep(delivery, attempt, outcome.delayMs, fate));
        return 'settle';
      case 'failed':
        this.reject(fate, rejectionFor(outcome.error, hints, attempt), delivery, oslo, notification);
        return 'settle';
    }
  }

  private succeed(fate: Fate, oslo: OsloMessage | null, notification: InstanceCreateEvent | null, result: unknown = null): void {
    if (notification) fate.steps.push(this.notificationStep(notification, fate));
    if (oslo?.msg_id && oslo.reply_q) fate.steps.push(this.replyStep(oslo.reply_q, rpcReplyBody(oslo.msg_id, { result })));
  }

  /** A host query: its result as the reply; a query that fails is rejected (dead-lettered, its caller told why). */
  private async answer(fate: Fate, oslo: OsloMessage, query: () => Promise<unknown>, delivery: Delivery, hints: MessageHints): Promise<'settle'> {
    try {
      this.succeed(fate, oslo, null, await query());
    } catch (error) {
      this.reject(fate, rejectionFor(error, hints, 0), delivery, oslo, null);
    }
    return 'settle';
  }

  private reject(
    fate: Fate,
    rejection: Rejection,
    delivery: Delivery,
    oslo: OsloMessage | null,
    notification: Pick<InstanceCreateEvent, 'source' | 'context'> | null,
  ): void {
    this.deps.log.warning(`message rejected (${rejection.reason}), dead-lettering it: ${rejection.detail}`, { ...fate.log, reason: rejection.reason, attempts: rejection.attempts });
    fate.steps.push(this.deadLetterStep(rejection, delivery, fate));
    if (notification) fate.steps.push(this.notificationStep({ ...notification, phase: 'error', fault: notificationFault(rejection) }, fate));
    if (oslo?.msg_id && oslo.reply_q) {
      fate.steps.push(this.replyStep(oslo.reply_q, rpcReplyBody(oslo.msg_id, { failure: remoteFailure(rejection, oslo) })));
    }
  }

  private deadLetterStep(rejection: Rejection, delivery: Delivery, fate: Fate): Step {
    const ours = deadLetterHeaders(rejection, { exchange: delivery.exchange, routingKey: delivery.routingKey, host: this.options.host, now: this.now() });
    return {
      kind: 'dead-letter',
      run: async () => {
        try {
          // Mandatory: with no queue bound (being re-declared, or deleted by hand) the broker returns it.
          await this.deps.publisher.publish(DEAD_LETTER_EXCHANGE, delivery.routingKey, delivery.body, { ...copiedProperties(delivery, ours, true), mandatory: true });
        } catch (error) {
          // The sender's own headers made the table too large to encode: ours alone still say why.
          if (!(error instanceof RangeError)) throw error;
          await this.deps.publisher.publish(DEAD_LETTER_EXCHANGE, delivery.routingKey, delivery.body, { ...copiedProperties(delivery, ours, false), mandatory: true });
        }
        this.deps.metrics?.deadLetter(rejection.reason);
        this.deps.log.info(`dead-lettered to ${DEAD_LETTER_EXCHANGE}`, { ...fate.log, reason: rejection.reason });
        void this.deps.deadLetterQueue?.added();
      },
    };
  }

  /** The message, with the attempts made, into the retry queue it waits `delay` ms in before coming back. */
  private retryStep(delivery: Delivery, attempt: number, delay: number, fate: Fate): Step {
    const queue = retryQueueName(this.options.host, attempt);
    const properties = { ...copiedProperties(delivery, { [ATTEMPTS_HEADER]: attempt }, true), expiration: String(delay) };
    return {
      kind: 'retry',
      run: async () => {
        await this.deps.publisher.publish('', queue, delivery.body, properties);
        this.deps.log.debug(`waiting in ${queue} for attempt ${attempt + 1}`, fate.log);
      },
    };
  }

  private notificationStep(event: InstanceCreateEvent, fate: Fate): Step {
    return {
      kind: 'notification',
      run: async () => {
        await fate.startNotified;
        await this.notify(event, fate);
      },
    };
  }

  private replyStep(replyQueue: string, body: Buffer): Step {
    return {
      kind: 'reply',
      run: () => this.deps.publisher.publish('', replyQueue, body, { contentType: 'application/json', contentEncoding: 'utf-8' }),
    };
  }

  /** Notifications never hold a spawn back: a failure to publish one is logged, as Nova's notifier does. */
  private async notify(event: InstanceCreateEvent, fate: Fate): Promise<void> {
    if (!this.deps.notify) return;
    try {
      await this.deps.notify(event);
      this.deps.log.debug(`notification instance.create.${event.phase} published`, fate.log);
    } catch (error) {
      if (event.phase !== 'start' && error instanceof ConnectionLost) throw error;
      this.deps.log.warning(`notification instance.create.${event.phase} not published: ${(error as Error).message}`, fate.log);
    }
  }

  /**
   * Runs the steps still to do, then acks. A step that fails because the connection dropped stays to do,
   * for the next delivery of the message; a dead letter that the broker refused is retried after a pause
   * (the message goes back to the queue); a notification or reply that fails otherwise is logged and dropped.
   */
  private settle(fate: Fate, delivery: Delivery): Promise<void> {
    return fate.serially(async () => {
      while (fate.steps.length > 0) {
        const step = fate.steps[0]!;
        try {
          await step.run();
        } catch (error) {
          if (!delivery.isOpen()) {
            this.deps.log.warning(`connection lost before ${step.kind} could be done: the broker will deliver the message again`, fate.log);
            return;
          }
          if (step.kind === 'dead-letter' || step.kind === 'retry') {
            const delay = backoffDelay(REQUEUE_PAUSE, 1);
            if (step.kind === 'dead-letter' && error instanceof PublishRefused) {
              // Never dropped: the message goes back to its queue and comes back here until there is room.
              this.deps.metrics?.deadLetterRefused();
              this.deps.log.warning(
                `the broker refused the dead letter (${DEAD_LETTER_QUEUE} ${error.why === 'nacked' ? 'is full' : 'is not there'}): requeueing the message, tried again in ${delay} ms; make room with nova-spawnd dead-letters replay`,
                fate.log,
              );
            } else {
              this.deps.log.error(`${step.kind} failed (${(error as Error).message}): requeueing the message in ${delay} ms`, fate.log);
            }
            await sleep(delay, this.stopping.signal);
            delivery.requeue();
            return;
          }
          this.deps.log.warning(`${step.kind} failed and is dropped: ${(error as Error).message}`, fate.log);
        }
        fate.steps.shift();
      }
      if (!delivery.ack()) this.deps.log.warning('channel closed before the ack: the broker will deliver the message again', fate.log);
    });
  }
}

/** The attempt a delivery is: 1 for a message from its sender, one more than a retry copy's header says. */
function attemptOf(delivery: Delivery): number {
  const made = delivery.properties.headers?.[ATTEMPTS_HEADER] as unknown;
  return typeof made === 'number' && Number.isInteger(made) && made >= 1 ? made + 1 : 1;
}

/**
 * The properties of a copy of the delivery (dead letter, retry): what a reader needs, not the expiration
 * (it would expire where it goes) nor the user id (the broker checks it against our own); headers: ours,
 * over the sender's unless `withSenders` is false, never the broker's x-death or a former attempt count.
 */
function copiedProperties(delivery: Delivery, ours: Record<string, unknown>, withSenders: boolean): Options.Publish {
  const { contentType, contentEncoding, headers, priority, correlationId, replyTo, messageId, timestamp, type, appId } = delivery.properties;
  const { 'x-death': _death, [ATTEMPTS_HEADER]: _attempts, ...senders } = (headers ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries({
      contentType, contentEncoding, priority, correlationId, replyTo, messageId, timestamp, type, appId,
      deliveryMode: 2,
      headers: withSenders ? { ...senders, ...ours } : ours,
    }).filter(([, value]) => value !== undefined),
  );
}

function logContext(hints: MessageHints): LogContext {
  return { instance: hints.instanceUuid ?? undefined, ...(hints.requestId === null ? {} : requestLogContext(hints.context)) };
}

function contextIds(context: Record<string, unknown>): { request_id: string | null; user_id: string | null; project_id: string | null } {
  const text = (key: string): string | null => (typeof context[key] === 'string' ? (context[key] as string) : null);
  return { request_id: text('request_id'), user_id: text('user_id'), project_id: text('project_id') };
}

/** The key of a query: its method, prefixed by its namespace when it has one (baseapi.ping). */
function queryKey(message: OsloMessage): string {
  return message.namespace === null ? message.method : `${message.namespace}.${message.method}`;
}
