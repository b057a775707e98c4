/**
 * The one owner of the instances of this host, as Nova's ComputeManager is: every operation on instance U
 * (build, terminate, stop, start, reboot) runs under U's lock, one after the other in arrival order, as Nova's
 * utils.synchronized(instance.uuid) runs them; builds also take one of [DEFAULT] max_concurrent_builds
 * slots inside the lock, as Nova's _build_semaphore. Here, and only here, is decided what an outcome means:
 * a transient failure with attempts left is retried after a backoff (the bus keeps the message meanwhile),
 * any other failure is final, a build handed to the conductor is settled elsewhere, an operation stopped
 * because its instance was deleted meanwhile is settled with nothing to do. And here is remembered
 * what was done: an instance built, or deleted, on this host is not built again by a redelivered message.
 * Reads that change nothing (console output, external events) take no lock, as in Nova.
 */
import { backoffDelay, type Backoff } from '../backoff.js';
import { BoundedMap } from '../bounded-map.js';
import { KeyedLock } from '../keyed-lock.js';
import { requestLogContext, type Logger, type LogContext } from '../log.js';
import { NO_METRICS, type Metrics } from '../metrics/metrics.js';
import type { BuildCast } from '../nova/build-and-run-instance.js';
import type { ExternalEvent, InstanceCast } from '../nova/compute-casts.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { BuildSlots } from './build-slots.js';
import { consoleText } from './console-output.js';
import { eventKey, InstanceEvents, type EventStatus } from './instance-events.js';
import type { InstanceDriver, RebootType } from './driver.js';
import { OperationStopped } from './instance-bookkeeping.js';
import { BuildRescheduled, OperationFailed } from './operation-failed.js';
import type { SpawnResult } from './spawn-result.js';
import type { SpawnAttempt, Spawner } from './spawner.js';

/** How builds are made: the spawn pipeline alone, or Nova's build around it (NovaBuild) with a control plane. */
export interface Builder {
  build(request: SpawnRequest, cast: BuildCast | null, attempt: SpawnAttempt): Promise<SpawnResult>;
}

/** The builder of a standalone host: the spawn pipeline alone, no Nova to tell. */
export function pipelineBuilder(spawner: Spawner): Builder {
  return { build: (request, _cast, attempt) => spawner.spawn(request, attempt) };
}

/**
 * The lifecycle operations as one attempt each (OperationFailed on failure): the driver's alone in standalone
 * mode (LocalLifecycle), with Nova's saves, events and allocations around them with a control plane
 * (NovaLifecycle), which records a failure as final only on the last attempt.
 */
export interface Lifecycle {
  terminate(target: InstanceCast, attempt: SpawnAttempt): Promise<void>;
  stop(target: InstanceCast, cleanShutdown: boolean, attempt: SpawnAttempt): Promise<void>;
  start(target: InstanceCast, attempt: SpawnAttempt): Promise<void>;
  reboot(target: InstanceCast, rebootType: RebootType, attempt: SpawnAttempt): Promise<void>;
}

export type InstanceOperation =
  /** `redelivered`: the message bringing it was delivered before (SpawnAttempt's). */
  | { kind: 'build'; request: SpawnRequest; cast: BuildCast | null; redelivered?: boolean }
  | { kind: 'terminate'; target: InstanceCast }
  | { kind: 'stop'; target: InstanceCast; cleanShutdown: boolean }
  | { kind: 'start'; target: InstanceCast }
  | { kind: 'reboot'; target: InstanceCast; rebootType: RebootType }
  | { kind: 'console-output'; target: InstanceCast; tailLength: number | null }
  | { kind: 'external-events'; targets: InstanceCast[]; events: ExternalEvent[] };

export type OperationOutcome =
  /** Done (`fresh` false: nothing needed doing, it was done before); `result` for a call's reply. */
  | { kind: 'done'; fresh: boolean; spawn?: SpawnResult; result?: unknown }
  /** Failed transiently with attempts left: to be tried again after delayMs. */
  | { kind: 'retry'; delayMs: number; error: OperationFailed }
  /** Failed for good, or with no attempt left. */
  | { kind: 'failed'; error: unknown }
  /** The build was handed back to nova-conductor for another host. */
  | { kind: 'rescheduled'; error: BuildRescheduled }
  /**
   * The instance was deleted (or is being deleted, or went to another host) meanwhile: the operation stopped
   * with nothing left to do, as Nova's manager returns from a build whose instance disappeared. Not a failure.
   */
  | { kind: 'stopped'; error: OperationStopped }
  /** The manager stopped before the operation started: nothing was done. */
  | { kind: 'abandoned' };

/** Five attempts, 2 s apart doubling up to a minute: a libvirtd restart or a Glance hiccup passes. */
export const DEFAULT_RETRY = { maxAttempts: 5, backoff: { initialMs: 2000, maxMs: 60_000, jitter: 0.2 } };

export interface ComputeManagerOptions {
  /** 0 = unlimited. */
  maxConcurrentBuilds: number;
  /** Attempts of an operation that keeps failing transiently (1 = no retry), and the wait between them. */
  retry: { maxAttempts: number; backoff: Backoff };
  /** Instances remembered as built or deleted. */
  memory: number;
}

/** What a network event asks of the compute (Neutron's side of external_instance_event), with a control plane. */
export interface NetworkEventHandler {
  /** network-changed: the instance's network info cache refreshed from Neutron (the port `tag`, or all). */
  networkChanged(target: InstanceCast, tag: string | null): Promise<void>;
}

export interface ComputeManagerDeps {
  builder: Builder;
  lifecycle: Lifecycle;
  driver: Pick<InstanceDriver, 'consoleOutput'>;
  /** Where drivers wait for network-vif-plugged and the like (the spawner's); a set of its own by default. */
  events?: InstanceEvents;
  /** network-changed's refresh; none without a control plane (nobody sends it then). */
  network?: NetworkEventHandler | null;
  log: Logger;
  /** Operations by outcome, builds in flight and their durations; default none. */
  metrics?: Pick<Metrics, 'operation' | 'buildStarted'>;
}

export interface PerformHooks {
  /** A build's first attempt got its slot and starts now (instance.create.start goes out then). */
  buildStarts?: () => void;
}

export class ComputeManager {
  /** One operation at a time on each instance, in arrival order. */
  private readonly locks = new KeyedLock();
  private readonly slots: BuildSlots;
  /** Instances built here (their domain), and deleted here: a redelivered build of either does nothing. */
  private readonly built: BoundedMap<string, string>;
  private readonly deleted: BoundedMap<string, true>;
  private stopped = false;
  private readonly events: InstanceEvents;
  private readonly network: NetworkEventHandler | null;
  private readonly metrics: Pick<Metrics, 'operation' | 'buildStarted'>;

  constructor(
    private readonly options: ComputeManagerOptions,
    private readonly deps: ComputeManagerDeps,
  ) {
    if (!Number.isInteger(options.retry.maxAttempts) || options.retry.maxAttempts < 1) {
      throw new RangeError(`retry.maxAttempts must be an integer of at least 1 (got ${options.retry.maxAttempts})`);
    }
    this.slots = new BuildSlots(options.maxConcurrentBuilds);
    this.events = deps.events ?? new InstanceEvents();
    this.network = deps.network ?? null;
    this.metrics = deps.metrics ?? NO_METRICS;
    this.built = new BoundedMap(options.memory);
    this.deleted = new BoundedMap(options.memory);
  }

  /** Operations not started yet are abandoned (their messages stay with the broker); those running finish. */
  stop(): void {
    this.stopped = true;
  }

  /** Attempts of an operation that keeps failing transiently (the bus declares a retry queue per retry). */
  get maxAttempts(): number {
    return this.options.retry.maxAttempts;
  }

  /** Instances with an operation running or waiting. */
  get busyInstances(): number {
    return this.locks.size;
  }

  /** Attempt number `attempt` (1 for the first) at `operation`; never rejects. */
  async perform(operation: InstanceOperation, attempt: number, hooks: PerformHooks = {}): Promise<OperationOutcome> {
    const outcome = await this.dispatch(operation, attempt, hooks);
    this.metrics.operation(operation.kind, outcome.kind);
    return outcome;
  }

  private async dispatch(operation: InstanceOperation, attempt: number, hooks: PerformHooks): Promise<OperationOutcome> {
    switch (operation.kind) {
      case 'console-output':
        return this.settle('console output', operation.target.uuid, attempt, async () => ({ kind: 'done', fresh: true, result: consoleText(await this.deps.driver.consoleOutput(operation.target.uuid), operation.tailLength) }));
      case 'external-events':
        return this.settle('external events', operation.events[0]?.instance_uuid ?? '-', attempt, async () => {
          await this.externalEvents(operation.targets, operation.events);
          return { kind: 'done', fresh: true };
        });
      case 'build':
        return this.locked(operation.request.instance.uuid, () => this.build(operation, attempt, hooks));
      case 'terminate':
        // Unlike Nova, which clears them under the lock, a build waiting for its VIFs gives way to the
        // delete at once instead of at vif_plugging_timeout.
        this.events.clear(operation.target.uuid);
        return this.locked(operation.target.uuid, () => this.settle(operation.kind, operation.target.uuid, attempt, () => this.lifecycle(operation, this.attemptOf(attempt))));
      default:
        return this.locked(operation.target.uuid, () => this.settle(operation.kind, operation.target.uuid, attempt, () => this.lifecycle(operation, this.attemptOf(attempt))));
    }
  }

  private async build(operation: Extract<InstanceOperation, { kind: 'build' }>, attempt: number, hooks: PerformHooks): Promise<OperationOutcome> {
    const { uuid } = operation.request.instance;
    const log: LogContext = { instance: uuid, ...requestLogContext(operation.request.context) };
    const domain = this.built.get(uuid);
    if (domain !== undefined) {
      this.deps.log.info('instance already built here: nothing to do', { ...log, domain });
      return { kind: 'done', fresh: false };
    }
    if (this.deleted.get(uuid)) {
      this.deps.log.info('instance was deleted here: not built again', log);
      return { kind: 'done', fresh: false };
    }
    const release = await this.slots.acquire();
    try {
      if (this.stopped) return { kind: 'abandoned' };
      const ended = this.metrics.buildStarted();
      if (attempt === 1) hooks.buildStarts?.();
      this.deps.log.info('spawning', { ...log, attempt });
      const outcome = await this.settle('spawn', uuid, attempt, async () => {
        const spawn = await this.deps.builder.build(operation.request, operation.cast, { ...this.attemptOf(attempt), redelivered: operation.redelivered });
        this.built.set(uuid, spawn.domain);
        return { kind: 'done', fresh: true, spawn };
      });
      ended(outcome.kind);
      return outcome;
    } finally {
      release();
    }
  }

  /**
   * external_instance_event: network-changed refreshes the instance's network info, network-vif-deleted is
   * taken note of (the port is gone; its VIF leaves the domain with the next rebuild of its XML), every other
   * event goes to whoever waits for it (network-vif-plugged), else is logged as unexpected, as Nova does.
   * An event for an instance the cast did not include is skipped.
   */
  private async externalEvents(targets: readonly InstanceCast[], events: readonly ExternalEvent[]): Promise<void> {
    for (const event of events) {
      const target = targets.find((candidate) => candidate.uuid === event.instance_uuid);
      const log: LogContext = { instance: event.instance_uuid, status: event.status ?? undefined, tag: event.tag ?? undefined };
      const key = eventKey(event.name, event.tag);
      if (target === undefined) {
        this.deps.log.warning(`external event ${key} names an instance the cast did not carry: skipped`, log);
      } else if (event.name === 'network-changed') {
        if (this.network === null) this.deps.log.info(`external event ${key}: no Neutron configured, nothing to refresh`, log);
        else await this.network.networkChanged(target, event.tag);
      } else if (event.name === 'network-vif-deleted') {
        this.deps.log.info(`external event ${key}: port deleted in Neutron`, log);
      } else if (this.events.pop(event.instance_uuid, key, eventStatus(event.status))) {
        this.deps.log.info(`external event ${key} received`, log);
      } else {
        this.deps.log.info(`external event ${key} received, nobody was waiting for it`, log);
      }
    }
  }

  private attemptOf(number: number): SpawnAttempt {
    return { number, last: number >= this.options.retry.maxAttempts };
  }

  private async lifecycle(operation: Exclude<InstanceOperation, { kind: 'build' | 'console-output' | 'external-events' }>, attempt: SpawnAttempt): Promise<OperationOutcome> {
    const { lifecycle } = this.deps;
    const { uuid } = operation.target;
    this.deps.log.info(`${operation.kind}${operation.kind === 'reboot' ? ` (${operation.rebootType})` : ''}`, { instance: uuid, ...requestLogContext(operation.target.context) });
    switch (operation.kind) {
      case 'terminate':
        await lifecycle.terminate(operation.target, attempt);
        this.built.delete(uuid);
        this.deleted.set(uuid, true);
        break;
      case 'stop':
        await lifecycle.stop(operation.target, operation.cleanShutdown, attempt);
        break;
      case 'start':
        await lifecycle.start(operation.target, attempt);
        break;
      case 'reboot':
        await lifecycle.reboot(operation.target, operation.rebootType, attempt);
        break;
    }
    return { kind: 'done', fresh: true };
  }

  /**
   * Runs `work` on instance `uuid` in turn with its operations (the power-state sync's share of it, as
   * Nova's query_driver_power_state_and_sync takes the instance's lock); skipped once the manager stopped.
   */
  async withInstance(uuid: string, work: () => Promise<void>): Promise<void> {
    const outcome = await this.locked(uuid, async () => {
      await work();
      return { kind: 'done', fresh: true };
    });
    if (outcome.kind === 'failed') throw outcome.error;
  }

  /** Runs `work` after every operation queued on `uuid` before it; abandoned if the manager stopped meanwhile. */
  private locked(uuid: string, work: () => Promise<OperationOutcome>): Promise<OperationOutcome> {
    return this.locks.run(uuid, () => (this.stopped ? Promise.resolve({ kind: 'abandoned' as const }) : work())).catch((error: unknown): OperationOutcome => ({ kind: 'failed', error }));
  }

  /** `work`'s outcome, or what its failure means for this attempt. */
  private async settle(what: string, uuid: string, attempt: number, work: () => Promise<OperationOutcome>): Promise<OperationOutcome> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof BuildRescheduled) return { kind: 'rescheduled', error };
      if (error instanceof OperationStopped) return { kind: 'stopped', error };
      const { maxAttempts, backoff } = this.options.retry;
      if (error instanceof OperationFailed && error.transient && attempt < maxAttempts) {
        const delayMs = backoffDelay(backoff, attempt);
        this.deps.log.warning(`${what} failed transiently, retrying in ${delayMs} ms (attempt ${attempt} of ${maxAttempts}): ${error.message}`, { instance: uuid });
        return { kind: 'retry', delayMs, error };
      }
      return { kind: 'failed', error };
    }
  }
}

/** InstanceExternalEvent's status (default completed); an unknown one counts as a failure. */
function eventStatus(status: string | null): EventStatus {
  if (status === null || status === 'completed') return 'completed';
  return status === 'in-progress' ? 'in-progress' : 'failed';
}
