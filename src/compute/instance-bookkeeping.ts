/**
 * What every operation on an instance records in Nova through nova-conductor, and how its failures are
 * classified, as Nova's compute manager does it around each operation (nova/compute/manager.py
 * wrap_instance_event, wrap_instance_fault; nova/db/main/api.py instance_update's expected_task_state):
 * - InstanceActionEvent.event_start(uuid, event, want_result=False, host) and
 *   event_finish_with_failure(uuid, event, exc_val, exc_tb, want_result=False) (compute_utils.EventReporter);
 * - Instance.save(expected_task_state): a row deleted meanwhile (InstanceNotFound) or being deleted
 *   (UnexpectedDeletingTaskStateError) stops the operation (OperationStopped); another task state (the task
 *   was preempted: UnexpectedTaskStateError) fails it for good (UnexpectedTaskState);
 * - InstanceFault.create as add_instance_fault_from_exc (message cut at 255 characters, code 500);
 * - every failure as OperationFailed: a lost conductor or a busy database is transient, a remote exception
 *   final; a failure on the host or of another service is transient when its error says so.
 * One per attempt at one operation on one instance, with the request context it was asked with.
 */
import { RpcCallError } from '../bus/rpc-call-error.js';
import type { ConductorApi } from '../conductor/conductor-api.js';
import type { RequestContext } from '../conductor/request-context.js';
import { requestLogContext, type Logger, type LogContext } from '../log.js';
import { NO_METRICS, timed, type Metrics } from '../metrics/metrics.js';
import { WireObject, type FieldValue } from '../nova/wire-object.js';
import { asOperationFailed } from './failure.js';
import { OperationFailed } from './operation-failed.js';

/** The fault message column: utils.safe_truncate(message, 255). */
export const FAULT_MESSAGE_CHARS = 255;

/**
 * The operation did not go on, and is not to be recorded as failed: the instance was deleted (or is being
 * deleted) meanwhile. Permanent, so nothing tries it again.
 */
export class OperationStopped extends OperationFailed {
  constructor(
    uuid: string,
    operation: string,
    reason: string,
    /** The instance was deleted (or is being deleted): a domain of it must go. */
    readonly deleted: boolean,
    options?: { cause?: unknown },
  ) {
    super(uuid, operation, false, reason, { ...options, operation });
  }
}

/** Instance.save found another task state than expected (UnexpectedTaskStateError): the task was preempted. */
export class UnexpectedTaskState extends OperationFailed {
  constructor(uuid: string, operation: string, reason: string, options?: { cause?: unknown }) {
    super(uuid, 'Instance.save', false, reason, { ...options, operation });
  }
}

/** expected_task_state as Instance.save takes it: one task state, or a list that may hold None. */
export type ExpectedTaskState = string | readonly (string | null)[];

/**
 * The conductor's database was busy or away (oslo.db's DBConnectionError, DBDeadlock; SQLAlchemy's
 * OperationalError, e.g. sqlite's "database is locked"): the same call may succeed a moment later.
 */
export function databaseBusy(error: RpcCallError): boolean {
  const remote = error.remote;
  if (remote === null) return false;
  return ['DBConnectionError', 'DBDeadlock', 'OperationalError'].includes(remote.className) || /database is locked/.test(remote.message);
}

/** The Python exception class a conductor call failed with, or null. */
export function remoteClass(error: unknown): string | null {
  return error instanceof RpcCallError ? (error.remote?.className ?? null) : null;
}

/**
 * The fault's message, what `openstack server show` tells the user (Nova: the exception's reason, 255
 * characters at most): the error's own reason when it states one apart from where it happened (an image's
 * temporary file, say), else the failure's reason.
 */
export function faultMessage(failure: OperationFailed): string {
  const cause = failure.cause as { name?: unknown; reason?: unknown; image?: unknown } | undefined;
  const message =
    cause !== undefined && typeof cause.reason === 'string' && typeof cause.name === 'string'
      ? `${cause.name}: ${typeof cause.image === 'string' ? `image ${cause.image}: ` : ''}${cause.reason}`
      : failure.reason;
  return message.length > FAULT_MESSAGE_CHARS ? message.slice(0, FAULT_MESSAGE_CHARS) : message;
}

/** The fault's details and the event's exc_tb: what happened and where. */
function failureDetails(failure: OperationFailed): string {
  return `${failure.message}\n${failure.stack ?? ''}`;
}

export interface BookkeepingDeps {
  conductor: Pick<ConductorApi, 'classAction' | 'objectAction'>;
  /** [DEFAULT] host. */
  host: string;
  log: Logger;
  /** Every Instance.save's duration (conductor_save); default none. */
  metrics?: Pick<Metrics, 'step'> | undefined;
}

export class InstanceBookkeeping {
  /** What this attempt logs with: instance, the request context's ids, attempt. */
  readonly log: LogContext;

  constructor(
    private readonly deps: BookkeepingDeps,
    readonly uuid: string,
    /** build, terminate, stop, ...: named in every failure. */
    readonly operation: string,
    readonly context: RequestContext,
    attempt = 1,
  ) {
    this.log = { instance: uuid, ...requestLogContext(context), attempt };
  }

  /** `work`, its failure as this operation's OperationFailed at `step`. */
  async step<T>(step: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.asFailure(error, step);
    }
  }

  /** A remotable class method through the conductor; InstanceNotFound stops the operation. */
  classAction(objName: string, objMethod: string, args: readonly unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
    return this.step(`${objName}.${objMethod}`, () => this.deps.conductor.classAction(objName, objMethod, args, kwargs, this.context));
  }

  /** A remotable method on `object` through the conductor; InstanceNotFound stops the operation. */
  objectAction(object: WireObject, objMethod: string, args: readonly unknown[] = [], kwargs: Record<string, unknown> = {}): Promise<unknown> {
    return this.step(`${object.objName}.${objMethod}`, () => this.deps.conductor.objectAction(object, objMethod, args, kwargs, this.context));
  }

  /**
   * Instance.save with `changes` set, checked against `expected` as Nova's database checks it (none given:
   * saved whatever the task state). Throws OperationStopped when the instance was deleted or is being
   * deleted, UnexpectedTaskState when another task has it.
   */
  async save(instance: WireObject, changes: Record<string, FieldValue>, expected?: ExpectedTaskState): Promise<void> {
    for (const [field, value] of Object.entries(changes)) instance.set(field, value);
    const kwargs = expected === undefined ? {} : { expected_task_state: expected };
    const began = Date.now();
    try {
      await timed(this.deps.metrics ?? NO_METRICS, 'conductor_save', () => this.deps.conductor.objectAction(instance, 'save', [], kwargs, this.context));
    } catch (error) {
      if (remoteClass(error) === 'UnexpectedTaskStateError') {
        throw new UnexpectedTaskState(this.uuid, this.operation, (error as RpcCallError).remote!.message, { cause: error });
      }
      throw this.asFailure(error, 'Instance.save');
    }
    this.deps.log.debug('instance saved', { ...this.log, changes: Object.keys(changes).join(','), ms: Date.now() - began });
  }

  /** EventReporter's start: the event of the instance action the request started. */
  async eventStart(event: string): Promise<void> {
    await this.classAction('InstanceActionEvent', 'event_start', [this.uuid, event], { want_result: false, host: this.deps.host });
  }

  /**
   * EventReporter's end, as serialize_args sends it: exc_val (the fault's message unless `excVal` says
   * otherwise) and exc_tb as text, None on success. Never throws.
   */
  async eventFinish(event: string, failure: OperationFailed | null, excVal?: string): Promise<void> {
    await this.quietly('event_finish_with_failure', () =>
      this.deps.conductor.classAction(
        'InstanceActionEvent',
        'event_finish_with_failure',
        [this.uuid, event],
        { exc_val: failure === null ? null : (excVal ?? faultMessage(failure)), exc_tb: failure === null ? null : failureDetails(failure), want_result: false },
        this.context,
      ),
    );
  }

  /** add_instance_fault_from_exc: what the user sees of a failure in `server show`. Never throws. */
  async recordFault(failure: OperationFailed): Promise<void> {
    await this.quietly('InstanceFault.create', async () => {
      const fault = new WireObject('InstanceFault', { host: this.deps.host, instance_uuid: this.uuid, code: 500, message: faultMessage(failure), details: failureDetails(failure) });
      await this.deps.conductor.objectAction(fault, 'create', [], {}, this.context);
    });
  }

  /**
   * Whatever a step threw, as this operation's failure: the instance gone (InstanceNotFound,
   * UnexpectedDeletingTaskStateError) stops it; a conductor that did not answer, or whose database was busy,
   * is transient; a failure on the host is classified by asOperationFailed.
   */
  asFailure(error: unknown, step: string): OperationFailed {
    if (error instanceof OperationFailed) return error;
    const remote = remoteClass(error);
    if (remote === 'InstanceNotFound' || remote === 'UnexpectedDeletingTaskStateError') {
      return new OperationStopped(this.uuid, this.operation, `the instance was deleted (${remote} at ${step})`, true, { cause: error });
    }
    if (error instanceof RpcCallError) {
      return new OperationFailed(this.uuid, 'conductor', error.retryable || databaseBusy(error), `${step}: ${error.message}`, { cause: error, operation: this.operation });
    }
    const failure = asOperationFailed(this.uuid, step, error);
    // The clients' errors (placement, Neutron, Keystone) say it as `retryable`.
    const retryable = (error as { retryable?: unknown } | null)?.retryable;
    const transient = typeof retryable === 'boolean' ? retryable : failure.transient;
    return new OperationFailed(this.uuid, step, transient, failure.reason, { cause: error, operation: this.operation });
  }

  /** `work` whose failure is logged and left: a record that must not undo the operation. */
  async quietly(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.deps.log.warning(`${what} failed: ${(error as Error).message}`, this.log);
    }
  }
}
