/**
 * Nova's view of this host's instances kept true to the hypervisor, as two periodic tasks of Nova's compute
 * manager do it (nova/compute/manager.py), each with a fresh admin context:
 * - _sync_power_states (every [DEFAULT] sync_power_state_interval): InstanceList.get_by_host(host,
 *   expected_attrs=[], use_slave=True); per instance without a task state: the driver's power state,
 *   Instance.refresh, Instance.save [power_state] when it differs; an ACTIVE instance whose guest is shut
 *   off or crashed ("Instance shutdown by itself. Calling the stop API."), or suspended, and a STOPPED or
 *   PAUSED one that runs (or a paused one that shut off), is stopped through the compute API (force_stop:
 *   its task state, its instance action, and stop_instance cast to this host, where the instance's owner
 *   runs it).
 * - _cleanup_running_deleted_instances (every [DEFAULT] running_deleted_instance_poll_interval): the
 *   domains this host has (list_instance_uuids) whose instances Nova holds as deleted
 *   (InstanceList.get_by_filters {deleted: True, soft_deleted: False, uuid: [...]}, read_deleted "yes"),
 *   deleted more than [DEFAULT] running_deleted_instance_timeout seconds ago, are handled per
 *   [DEFAULT] running_deleted_instance_action: noop, log, shutdown (powered off at once) or reap (destroyed
 *   with their files, as _shutdown_instance). As in Nova, a domain whose instance row is gone altogether
 *   (archived, purged) is not found, and left.
 * Every instance's part is handed to `perInstance`, so that the instance's owner serialises it with the
 * instance's other operations (Nova's utils.synchronized(uuid)); a failure there is logged and the others go on.
 * Unlike Nova, an instance created with shutdown_terminate is stopped, not deleted: only the EC2 API set it.
 */
import type { RequestContext } from '../conductor/request-context.js';
import { adminContext } from '../conductor/request-context.js';
import type { NovaConfig } from '../config/schema.js';
import { MalformedNovaObject, WireObject } from '../nova/wire-object.js';
import { instanceName } from '../virt/instance-name.js';
import type { ComputeApi } from './compute-api.js';
import { POWER_STATE, type InstanceDriver, type PowerState } from './driver.js';
import { InstanceBookkeeping, OperationStopped, type BookkeepingDeps } from './instance-bookkeeping.js';
import { POWERED_OFF, shutdownOnHost } from './lifecycle.js';

export type RunningDeletedInstanceAction = NovaConfig['DEFAULT']['running_deleted_instance_action'];

/** How the owner runs one instance's part: `work`, in turn with the instance's other operations. */
export type PerInstance = (uuid: string, work: () => Promise<void>) => Promise<void>;

export interface PowerStateSyncDeps extends BookkeepingDeps {
  driver: Pick<InstanceDriver, 'powerState' | 'listInstanceUuids' | 'powerOff' | 'destroy'>;
  computeApi: Pick<ComputeApi, 'forceStop'>;
  /** [DEFAULT] running_deleted_instance_action. */
  runningDeletedInstanceAction: RunningDeletedInstanceAction;
  /** [DEFAULT] running_deleted_instance_timeout: seconds an instance must have been deleted for. */
  runningDeletedInstanceTimeoutS: number;
  now?: () => Date;
}

const DIRECTLY: PerInstance = (_uuid, work) => work();
const SHUT_OFF: ReadonlySet<PowerState> = new Set([POWER_STATE.SHUTDOWN, POWER_STATE.CRASHED]);

export class PowerStateSync {
  private readonly now: () => Date;

  constructor(private readonly deps: PowerStateSyncDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * _sync_power_states, once. Rejects only when the instances cannot be listed (RpcCallError); every
   * instance's sync runs at once, as Nova's sync pool spawns them.
   */
  async powerSync(perInstance: PerInstance = DIRECTLY): Promise<void> {
    const { deps } = this;
    const context = adminContext();
    const instances = instancesOf(
      await deps.conductor.classAction('InstanceList', 'get_by_host', [deps.host], { expected_attrs: [], use_slave: true }, context),
      'InstanceList.get_by_host()',
    );
    const onHypervisor = (await deps.driver.listInstanceUuids()).length;
    if (onHypervisor !== instances.length) {
      deps.log.warning(`While synchronizing instance power states, found ${instances.length} instances in the database and ${onHypervisor} instances on the hypervisor.`);
    }
    await Promise.all(
      instances.map(async (instance) => {
        const uuid = instance.require('uuid') as string;
        try {
          await perInstance(uuid, () => this.syncInstance(instance, context));
        } catch (error) {
          deps.log.error(`Periodic sync_power_state task had an error while processing an instance: ${(error as Error).message}`, { instance: uuid });
        }
      }),
    );
  }

  /** _cleanup_running_deleted_instances, once. Rejects only when the domains or the instances cannot be listed. */
  async cleanupRunningDeleted(perInstance: PerInstance = DIRECTLY): Promise<void> {
    const { deps } = this;
    const action = deps.runningDeletedInstanceAction;
    if (action === 'noop') return;
    const uuids = await deps.driver.listInstanceUuids();
    if (uuids.length === 0) return;
    // Admin contexts do not read deleted rows unless told to (utils.temporary_mutation read_deleted="yes").
    const context: RequestContext = { ...adminContext(), read_deleted: 'yes' };
    const deleted = instancesOf(
      await deps.conductor.classAction('InstanceList', 'get_by_filters', [{ deleted: true, soft_deleted: false, uuid: uuids }], { use_slave: true }, context),
      'InstanceList.get_by_filters()',
    );
    for (const instance of deleted.filter((candidate) => this.deletedOldEnough(candidate))) {
      const uuid = instance.require('uuid') as string;
      try {
        await perInstance(uuid, () => this.handleRunningDeleted(instance, action, context));
      } catch (error) {
        deps.log.warning(`Periodic cleanup failed to delete instance: ${(error as Error).message}`, { instance: uuid });
      }
    }
  }

  /** _query_driver_power_state_and_sync and _sync_instance_power_state; an instance deleted meanwhile is left. */
  private async syncInstance(instance: WireObject, context: RequestContext): Promise<void> {
    const { deps } = this;
    const book = new InstanceBookkeeping(deps, instance.require('uuid') as string, 'power_sync', context);
    if (this.pendingTask(book, instance)) return;
    const vmPowerState = await book.step('power_state', () => deps.driver.powerState(book.uuid));
    try {
      // Read again just before comparing, to narrow (not close) the race with an operation.
      await book.objectAction(instance, 'refresh', [], { use_slave: true });
      if (instance.get('host') !== deps.host) {
        deps.log.info(`During the sync_power process the instance has moved from host ${String(instance.get('host'))} to host ${deps.host}`, book.log);
        return;
      }
      if (this.pendingTask(book, instance)) return;
      const dbPowerState = instance.get('power_state');
      if (vmPowerState !== dbPowerState) {
        deps.log.info(
          `During _sync_instance_power_state the DB power_state (${String(dbPowerState)}) does not match the vm_power_state from the hypervisor (${vmPowerState}). Updating power_state in the DB to match the hypervisor.`,
          book.log,
        );
        await book.save(instance, { power_state: vmPowerState });
      }
      await this.resolve(book, instance, vmPowerState, dbPowerState);
    } catch (error) {
      if (error instanceof OperationStopped && error.deleted) return;
      throw error;
    }
  }

  /** The discrepancy between vm_state and the hypervisor's power state, resolved as Nova's sync does. */
  private async resolve(book: InstanceBookkeeping, instance: WireObject, vmPowerState: PowerState, dbPowerState: unknown): Promise<void> {
    const { log } = this.deps;
    const vmState = instance.get('vm_state');
    const states = (current: PowerState): string =>
      `Current vm_state: ${String(vmState)}, current task_state: ${String(instance.get('task_state'))}, original DB power_state: ${String(dbPowerState)}, current VM power_state: ${current}`;
    if (vmState === 'active') {
      if (SHUT_OFF.has(vmPowerState)) {
        // _stop_unexpected_shutdown_instance: make sure before slamming through a power off.
        const current = await book.step('power_state', () => this.deps.driver.powerState(book.uuid));
        if (!SHUT_OFF.has(current)) return;
        log.warning(`Instance shutdown by itself. Calling the stop API. ${states(current)}`, book.log);
        await this.stop(book, instance);
      } else if (vmPowerState === POWER_STATE.SUSPENDED) {
        log.warning('Instance is suspended unexpectedly. Calling the stop API.', book.log);
        await this.stop(book, instance);
      } else if (vmPowerState === POWER_STATE.PAUSED) {
        log.warning('Instance is paused unexpectedly. Ignore.', book.log);
      } else if (vmPowerState === POWER_STATE.NOSTATE) {
        log.warning('Instance is unexpectedly not found. Ignore.', book.log);
      }
    } else if (vmState === 'stopped') {
      if (!POWERED_OFF.has(vmPowerState)) {
        log.warning(`Instance is not stopped. Calling the stop API. ${states(vmPowerState)}`, book.log);
        await this.stop(book, instance);
      }
    } else if (vmState === 'paused') {
      if (SHUT_OFF.has(vmPowerState)) {
        log.warning('Paused instance shutdown by itself. Calling the stop API.', book.log);
        await this.stop(book, instance);
      }
    } else if (vmState === 'soft-delete' || vmState === 'deleted') {
      if (vmPowerState !== POWER_STATE.NOSTATE && vmPowerState !== POWER_STATE.SHUTDOWN) log.warning('Instance is not (soft-)deleted.', book.log);
    }
  }

  /** The compute API's stop; its failure is only logged: the next sync finds the same state and tries again. */
  private async stop(book: InstanceBookkeeping, instance: WireObject): Promise<void> {
    try {
      await this.deps.computeApi.forceStop(instance, book.context);
    } catch (error) {
      this.deps.log.error(`error during stop() in sync_power_state: ${(error as Error).message}`, book.log);
    }
  }

  private pendingTask(book: InstanceBookkeeping, instance: WireObject): boolean {
    const taskState = instance.get('task_state') ?? null;
    if (taskState === null) return false;
    this.deps.log.info(`During sync_power_state the instance has a pending task (${String(taskState)}). Skip.`, book.log);
    return true;
  }

  private async handleRunningDeleted(instance: WireObject, action: Exclude<RunningDeletedInstanceAction, 'noop'>, context: RequestContext): Promise<void> {
    const { deps } = this;
    const book = new InstanceBookkeeping(deps, instance.require('uuid') as string, 'reap', context);
    const name = instanceName({ id: (instance.get('id') as number | undefined) ?? null, uuid: book.uuid });
    if (action === 'log') {
      deps.log.warning(`Detected instance with name label '${name}' which is marked as DELETED but still present on host.`, book.log);
    } else if (action === 'shutdown') {
      deps.log.info(`Powering off instance with name label '${name}' which is marked as DELETED but still present on host.`, book.log);
      // driver.power_off(instance) with its defaults: no clean shutdown.
      await book.step('power_off', () => deps.driver.powerOff(book.uuid, { timeoutS: 0, retryIntervalS: 0 }));
    } else {
      deps.log.info(`Destroying instance with name label '${name}' which is marked as DELETED but still present on host.`, book.log);
      await shutdownOnHost(deps.driver, book);
    }
  }

  /** _deleted_old_enough: no deleted_at, or deleted more than the timeout ago. */
  private deletedOldEnough(instance: WireObject): boolean {
    const deletedAt = instance.get('deleted_at');
    if (typeof deletedAt !== 'string') return true;
    return this.now().getTime() - Date.parse(deletedAt) > this.deps.runningDeletedInstanceTimeoutS * 1000;
  }
}

/** The Instances of an InstanceList the conductor answered. */
function instancesOf(result: unknown, where: string): WireObject[] {
  if (!(result instanceof WireObject) || result.objName !== 'InstanceList') throw new MalformedNovaObject(where, result, 'must answer an InstanceList');
  const objects = result.get('objects') ?? [];
  if (!Array.isArray(objects) || !objects.every((item) => item instanceof WireObject && item.objName === 'Instance')) {
    throw new MalformedNovaObject(`${where}.objects`, objects, 'must be a list of Instance');
  }
  return objects as WireObject[];
}
