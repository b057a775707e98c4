/**
 * The operations on an instance after its build, as Nova's compute manager does them in a compute service
 * of a control plane (nova/compute/manager.py terminate_instance, stop_instance, start_instance,
 * reboot_instance): the hypervisor's part through the InstanceDriver, Nova's part through nova-conductor with
 * the request context of the cast, on the Instance the cast carried.
 *
 * Each takes the cast as decoded (InstanceCast: the Instance primitive and the request context) and which
 * attempt this is (the owner's count; without it, the only one). Each is one attempt, named by its instance
 * action event (wrap_instance_event(prefix='compute')):
 *   event_start(uuid, "compute_<method>")   (the first attempt only: a retry would add a second event of
 *                                            the name, and event_finish_with_failure finishes the first)
 *   the operation's steps (see each method)
 *   event_finish_with_failure(exc_val None)
 * A failure that is final (permanent, or transient on the last attempt) is recorded as Nova's decorators
 * record it, innermost first: terminate's vm_state error (_set_instance_obj_error_state), the fault
 * (wrap_instance_fault), the event finished with the error (wrap_instance_event), task_state None
 * (reverts_task_state; not when the task was preempted, UnexpectedTaskStateError). A transient failure with
 * attempts left records nothing: the instance keeps its task state and the owner tries again; every step is
 * idempotent (the driver's, the saves', DELETE /allocations').
 * An instance deleted meanwhile (InstanceNotFound, UnexpectedDeletingTaskStateError) stops a stop, start or
 * reboot quietly (OperationStopped: no fault, its event finished with the reason). A terminate of an instance
 * already gone completes: its domain and files are gone, its allocations deleted.
 *
 * Not done, as nothing here has it: volumes (no Cinder: BlockDeviceMappingList, detach and delete),
 * Cyborg ARQs, shelved images (start_instance's shelved_image_id: no shelve), rescue (reboot keeps vm_state
 * rescued: no rescue), Neutron's ports (deallocate_for_instance's port deletion and the network info cache
 * refresh: the networking work's; the info cache row goes with Instance.destroy), the scheduler's fanout
 * delete_instance_info (the build sends it no update_instance_info either: the scheduler then reads the
 * host's instances from the database), wrap_exception's notifications.
 */
import type { PlacementClient } from '../clients/placement.js';
import type { ComputeNodeKeeper } from '../conductor/compute-node-keeper.js';
import { elevated, type RequestContext } from '../conductor/request-context.js';
import type { InstanceCast } from '../nova/compute-casts.js';
import { INSTANCE_PAYLOAD_JOINED, INSTANCE_PAYLOAD_READS } from '../nova/instance-payload.js';
import { novaDateTime, WireObject } from '../nova/wire-object.js';
import { POWER_STATE, type InstanceDriver, type PowerOffOptions, type PowerState, type RebootType } from './driver.js';
import type { InstanceNetwork } from './instance-network.js';
import { InstanceBookkeeping, remoteClass, OperationStopped, UnexpectedTaskState, type BookkeepingDeps } from './instance-bookkeeping.js';
import type { OperationFailed } from './operation-failed.js';
import { powerOffValues, type PowerOffTimes } from './local-lifecycle.js';
import type { SpawnAttempt } from './spawner.js';

/** wrap_instance_event(prefix='compute'): "compute_" + the manager's method. */
export const LIFECYCLE_EVENTS = {
  terminate: 'compute_terminate_instance',
  stop: 'compute_stop_instance',
  start: 'compute_start_instance',
  reboot: 'compute_reboot_instance',
} as const;
export type LifecycleOperation = keyof typeof LIFECYCLE_EVENTS;

/** The power states in which an instance counts as off (stop_instance, _sync_instance_power_state). */
export const POWERED_OFF: ReadonlySet<PowerState> = new Set([POWER_STATE.NOSTATE, POWER_STATE.SHUTDOWN, POWER_STATE.CRASHED]);

/** nova.compute.task_states.soft_reboot_states and hard_reboot_states; then REBOOT_PENDING(_HARD), REBOOT_STARTED(_HARD). */
const REBOOT_STATES: Record<RebootType, { expected: readonly string[]; pending: string; started: string }> = {
  SOFT: { expected: ['rebooting', 'reboot_pending', 'reboot_started'], pending: 'reboot_pending', started: 'reboot_started' },
  HARD: { expected: ['rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard'], pending: 'reboot_pending_hard', started: 'reboot_started_hard' },
};

/**
 * Where Nova calls compute_utils.notify_about_instance_action (the versioned instance.<action>.<phase>
 * notifications; shutdown.start/end come within a delete). `error` is the failure of an error phase.
 * `instance` is the operation's Instance as it is at that moment (its states as set so far), with every field
 * InstanceActionPayload reads loaded; `context` is the one Nova notifies with (elevated for the shutdown and
 * the reboot, as _shutdown_instance and _reboot_instance elevate theirs).
 */
export interface LifecycleNotification {
  action: 'delete' | 'shutdown' | 'power_off' | 'power_on' | 'reboot';
  phase: 'start' | 'end' | 'error';
  instance: WireObject;
  context: RequestContext;
  error?: OperationFailed;
}

/** With [DEFAULT] shutdown_timeout and [compute] shutdown_retry_interval for every stop. */
export interface NovaLifecycleDeps extends BookkeepingDeps, PowerOffTimes {
  driver: Pick<InstanceDriver, 'destroy' | 'powerOff' | 'powerOn' | 'reboot' | 'powerState'>;
  placement: Pick<PlacementClient, 'deleteAllocations'>;
  /** Updated after a delete changed the usage, as _complete_deletion's _update_resource_tracker. */
  nodes: Pick<ComputeNodeKeeper, 'update'>;
  /** The instance's ports released on delete (_try_deallocate_network). */
  network: Pick<InstanceNetwork, 'deallocate' | 'readCache'>;
  /**
   * Called where Nova sends its notifications (versioned and legacy), given only when some are enabled
   * (without them nothing is loaded for a payload). A failure of it, or of
   * loading the payload's fields, is logged, never the operation's.
   */
  notify?: (notification: LifecycleNotification) => Promise<void> | void;
  now?: () => Date;
}

const ONLY_ATTEMPT: SpawnAttempt = { number: 1, last: true };

/**
 * _shutdown_instance without its notifications, also what _cleanup_running_deleted_instances reaps with:
 * the domain and the instance's files gone (driver.destroy), then the network deallocated: the instance's
 * ports in Neutron (`releasePorts`, where the caller has them) and its rows in Nova's database
 * (VirtualInterface.delete_by_instance_uuid, which deallocate_for_instance ends with).
 */
export async function shutdownOnHost(driver: Pick<InstanceDriver, 'destroy'>, book: InstanceBookkeeping, releasePorts?: () => Promise<void>): Promise<void> {
  await book.step('destroy', () => driver.destroy(book.uuid));
  await releasePorts?.();
  await book.classAction('VirtualInterface', 'delete_by_instance_uuid', [book.uuid]);
}

export class NovaLifecycle {
  private readonly now: () => Date;

  constructor(private readonly deps: NovaLifecycleDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * terminate_instance (_delete_instance, _shutdown_instance, _complete_deletion):
   *   notify delete start, shutdown start; driver.destroy; VirtualInterface.delete_by_instance_uuid;
   *   notify shutdown end;
   *   Instance.save [vm_state=deleted, task_state=None, power_state=NOSTATE, terminated_at]  (no expected:
   *   a delete that got this far wins whatever the task state)
   *   ComputeNode updated (when the instance is this host's); DELETE /allocations/{uuid};
   *   ConsoleAuthToken.clean_console_auths_for_instance; Instance.destroy; notify delete end.
   * ConsoleAuthToken is cleaned as Nova does with its default [vnc] enabled: this compute hands out no
   * console, but another may have before the instance came here.
   * The instance gone from Nova's database (InstanceNotFound): the allocations are deleted all the same,
   * and the terminate succeeds ("Instance disappeared during terminate").
   */
  terminate(target: InstanceCast, attempt: SpawnAttempt = ONLY_ATTEMPT): Promise<void> {
    return this.run('terminate', target, attempt, async (book, instance, context) => {
      const { deps } = this;
      deps.log.info('Terminating instance', book.log);
      await this.notify({ action: 'delete', phase: 'start', instance, context });
      await this.notify({ action: 'shutdown', phase: 'start', instance, context: elevated(context) });
      // _try_deallocate_network, from the cache as Nova's database holds it (the cast's instance need not
      // carry it): the ports made for the instance deleted, those the user passed in unbound.
      await shutdownOnHost(deps.driver, book, async () => {
        const cache = await deps.network.readCache(target).catch((error: unknown) => {
          if (remoteClass(error) === 'InstanceInfoCacheNotFound' || remoteClass(error) === 'InstanceNotFound') return null;
          throw book.asFailure(error, 'InstanceInfoCache.get_by_instance_uuid');
        });
        await deps.network.deallocate(book, instance, context, null, cache);
      });
      await this.notify({ action: 'shutdown', phase: 'end', instance, context: elevated(context) });
      let gone = await this.stoppedByDelete(() =>
        book.save(instance, { vm_state: 'deleted', task_state: null, power_state: POWER_STATE.NOSTATE, terminated_at: novaDateTime(this.now()) }),
      );
      if (instance.get('host') === deps.host) await book.quietly('ComputeNode update', () => deps.nodes.update());
      // Instance.destroy only once the allocations are gone, as Nova: else nothing would delete them.
      await book.step('DELETE /allocations', () => deps.placement.deleteAllocations(book.uuid));
      if (!gone) {
        await book.classAction('ConsoleAuthToken', 'clean_console_auths_for_instance', [book.uuid]);
        gone = await this.stoppedByDelete(() => book.objectAction(instance, 'destroy'));
      }
      if (gone) {
        deps.log.info('Instance disappeared during terminate', book.log);
        return;
      }
      await this.notify({ action: 'delete', phase: 'end', instance, context });
      deps.log.info('instance deleted', book.log);
    });
  }

  /**
   * stop_instance: the power state read first (an instance already off may have lost its task state to a
   * racing operation: None is then expected too); notify power_off start; driver.powerOff (clean: the
   * image's os_shutdown_timeout or [DEFAULT] shutdown_timeout, ACPI every [compute] shutdown_retry_interval;
   * not clean: at once); Instance.save [power_state, vm_state=stopped, task_state=None] expected
   * powering-off; notify power_off end.
   */
  stop(target: InstanceCast, cleanShutdown: boolean, attempt: SpawnAttempt = ONLY_ATTEMPT): Promise<void> {
    return this.run('stop', target, attempt, async (book, instance, context) => {
      const current = await this.powerState(book);
      const expected: (string | null)[] = ['powering-off'];
      if (POWERED_OFF.has(current)) {
        this.deps.log.info('Instance is already powered off in the hypervisor when stop is called.', book.log);
        expected.push(null);
      }
      await this.notify({ action: 'power_off', phase: 'start', instance, context });
      await book.step('power_off', () => this.deps.driver.powerOff(book.uuid, this.powerOffOptions(instance, cleanShutdown)));
      await book.save(instance, { power_state: await this.powerState(book), vm_state: 'stopped', task_state: null }, expected);
      await this.notify({ action: 'power_off', phase: 'end', instance, context });
    });
  }

  /**
   * start_instance: notify power_on start; driver.powerOn; Instance.save [power_state, vm_state=active,
   * task_state=None] expected powering-on; notify power_on end.
   */
  start(target: InstanceCast, attempt: SpawnAttempt = ONLY_ATTEMPT): Promise<void> {
    return this.run('start', target, attempt, async (book, instance, context) => {
      await this.notify({ action: 'power_on', phase: 'start', instance, context });
      await book.step('power_on', () => this.deps.driver.powerOn(book.uuid));
      await book.save(instance, { power_state: await this.powerState(book), vm_state: 'active', task_state: null }, 'powering-on');
      await this.notify({ action: 'power_on', phase: 'end', instance, context });
    });
  }

  /**
   * reboot_instance (_reboot_instance): task_state reboot_pending(_hard) set; notify reboot start (with the
   *   request context elevated, as every notification of the reboot);
   *   Instance.save [task_state=reboot_pending(_hard), power_state]  expected soft/hard_reboot_states
   *   Instance.save [task_state=reboot_started(_hard)]               expected reboot_pending(_hard)
   *   driver.reboot; Instance.save [power_state, vm_state=active, task_state=None] (no expected; the
   *   instance gone meanwhile is only logged); notify reboot end.
   * A final failure of the reboot with the guest still running is a fault and an error notification, and
   * the reboot ends as above; with the guest not running, the instance goes to ERROR.
   */
  reboot(target: InstanceCast, rebootType: RebootType, attempt: SpawnAttempt = ONLY_ATTEMPT): Promise<void> {
    return this.run('reboot', target, attempt, async (book, instance, requestContext) => {
      const { deps } = this;
      const states = REBOOT_STATES[rebootType];
      // "acknowledge the request made it to the manager": the start notification shows it, saved below.
      instance.set('task_state', states.pending);
      const context = elevated(requestContext);
      deps.log.info('Rebooting instance', book.log);
      await this.notify({ action: 'reboot', phase: 'start', instance, context });
      const powerState = await this.powerState(book);
      await book.save(instance, { task_state: states.pending, power_state: powerState }, states.expected);
      if (powerState !== POWER_STATE.RUNNING) {
        deps.log.warning(`trying to reboot a non-running instance: (state: ${powerState} expected: ${POWER_STATE.RUNNING})`, book.log);
      }
      await book.save(instance, { task_state: states.started }, states.pending);
      let newPowerState: PowerState | null = null;
      try {
        await book.step('reboot', () => deps.driver.reboot(book.uuid, rebootType));
      } catch (error) {
        const failure = error as OperationFailed;
        if (failure.transient && !attempt.last) throw failure;
        newPowerState = await this.powerState(book);
        if (newPowerState !== POWER_STATE.RUNNING) {
          deps.log.error(`Cannot reboot instance: ${failure.message}`, book.log);
          await this.setErrorState(book, instance);
          throw failure;
        }
        deps.log.warning(`Reboot failed but instance is running: ${failure.message}`, book.log);
        await book.recordFault(failure);
        await this.notify({ action: 'reboot', phase: 'error', instance, context, error: failure });
      }
      const finalState = newPowerState ?? (await this.powerState(book));
      const gone = await this.stoppedByDelete(() => book.save(instance, { power_state: finalState, vm_state: 'active', task_state: null }));
      if (gone) deps.log.warning('Instance disappeared during reboot', book.log);
      await this.notify({ action: 'reboot', phase: 'end', instance, context });
    });
  }

  /** One attempt at `operation` with its event, and Nova's records of a final failure. */
  private async run(
    operation: LifecycleOperation,
    target: InstanceCast,
    attempt: SpawnAttempt,
    body: (book: InstanceBookkeeping, instance: WireObject, context: RequestContext) => Promise<void>,
  ): Promise<void> {
    const event = LIFECYCLE_EVENTS[operation];
    const { context } = target;
    const book = new InstanceBookkeeping(this.deps, target.uuid, operation, context, attempt.number);
    // The cast's Instance, as each attempt saves it; what the sender had changed is not this operation's.
    const instance = await book.step('instance', async () => WireObject.fromPrimitive(target.instance, 'instance', 'Instance'));
    instance.resetChanges();
    try {
      if (attempt.number === 1) await book.eventStart(event);
      await body(book, instance, context);
    } catch (error) {
      const failure = book.asFailure(error, operation);
      if (failure instanceof OperationStopped) {
        this.deps.log.info(`${operation} stopped: ${failure.reason}`, book.log);
      } else if (failure.transient && !attempt.last) {
        this.deps.log.warning(`${operation} attempt failed, the instance keeps its task state: ${failure.message}`, book.log);
        throw failure;
      } else {
        this.deps.log.error(`${operation} failed: ${failure.message}`, book.log);
        if (operation === 'terminate') await this.setErrorState(book, instance);
        await book.recordFault(failure);
      }
      await book.eventFinish(event, failure);
      if (!(failure instanceof OperationStopped) && !(failure instanceof UnexpectedTaskState)) await this.revertTaskState(book, instance);
      throw failure;
    }
    await book.eventFinish(event, null);
  }

  /** _get_power_off_values with the image's os_shutdown_timeout, which the instance keeps in system_metadata. */
  private powerOffOptions(instance: WireObject, cleanShutdown: boolean): PowerOffOptions {
    const systemMetadata = instance.get('system_metadata') as Record<string, unknown> | null | undefined;
    const fromImage = Number.parseInt(String(systemMetadata?.['image_os_shutdown_timeout'] ?? ''), 10);
    return powerOffValues(this.deps, cleanShutdown, Number.isNaN(fromImage) ? null : fromImage);
  }

  /** _get_power_state: the driver's NOSTATE stands for a domain that is not there. */
  private powerState(book: InstanceBookkeeping): Promise<PowerState> {
    return book.step('power_state', () => this.deps.driver.powerState(book.uuid));
  }

  /** _set_instance_obj_error_state: vm_state error, an instance destroyed from under us left so. */
  private async setErrorState(book: InstanceBookkeeping, instance: WireObject): Promise<void> {
    await book.quietly('Instance.save (ERROR)', () => this.stoppedByDelete(() => book.save(instance, { vm_state: 'error' })));
  }

  /** reverts_task_state: task_state None, so that the user may ask again. */
  private async revertTaskState(book: InstanceBookkeeping, instance: WireObject): Promise<void> {
    await book.quietly('Instance.save (task_state reverted)', () => this.stoppedByDelete(() => book.save(instance, { task_state: null })));
  }

  /**
   * What Nova's Instance.obj_load_attr does when the payload reads a field the cast's Instance lacks (nova-api
   * sends stop and start casts without the flavor and info cache; the power-state sync's stop has not even
   * the metadata): Instance.get_by_uuid with the joined ones as expected_attrs, reading deleted rows too, and
   * every field of the answer that ours lacks taken as loaded, not as a change (_load_generic). One call
   * where Nova makes one per field; none when the Instance has them all, as a build's or a delete's has.
   */
  private async loadPayloadFields(instance: WireObject, context: RequestContext): Promise<void> {
    const missing = INSTANCE_PAYLOAD_READS.filter((field) => !instance.has(field));
    if (missing.length === 0) return;
    const loaded = await this.deps.conductor.classAction(
      'Instance',
      'get_by_uuid',
      [instance.get('uuid')],
      { expected_attrs: INSTANCE_PAYLOAD_JOINED.filter((field) => missing.includes(field)) },
      { ...context, read_deleted: 'yes' },
    );
    if (!(loaded instanceof WireObject) || loaded.objName !== 'Instance') throw new Error(`Instance.get_by_uuid answered ${JSON.stringify(loaded)}`);
    for (const field of loaded.setFields()) if (!instance.has(field)) instance.load(field, loaded.get(field)!);
  }

  /** Runs `work`; true when it found the instance deleted (OperationStopped), which it then leaves be. */
  private async stoppedByDelete(work: () => Promise<unknown>): Promise<boolean> {
    try {
      await work();
      return false;
    } catch (error) {
      if (error instanceof OperationStopped && error.deleted) return true;
      throw error;
    }
  }

  private async notify(notification: LifecycleNotification): Promise<void> {
    if (this.deps.notify === undefined) return;
    try {
      await this.loadPayloadFields(notification.instance, notification.context);
      await this.deps.notify(notification);
    } catch (error) {
      this.deps.log.warning(`instance.${notification.action}.${notification.phase} notification failed: ${(error as Error).message}`, { instance: String(notification.instance.get('uuid')) });
    }
  }
}
