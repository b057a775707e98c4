/**
 * A build as Nova's compute manager takes one to ACTIVE or ERROR (nova/compute/manager.py
 * _do_build_and_run_instance, _build_and_run_instance, _build_resources), around the spawn pipeline: the
 * Spawner of a compute service of a control plane. Every step is saved through nova-conductor with the
 * user's request context, on the Instance the conductor cast (Instance 2.7, only what changed):
 *   InstanceActionEvent.event_start(uuid, "compute__do_build_and_run_instance", host), and at the same time
 *   Instance.save [vm_state=building, task_state=None,             expected_task_state (scheduling, None)
 *                  host, node, launched_on, system_metadata]
 *     (Nova's first save and the resource tracker's instance_claim save as one: the claim's changes no
 *     state, so no instance.update is missed, and the first save's guard covers both)
 *   Instance.save [task_state=networking]                         expected_task_state (None,)
 *     (only when there are ports to allocate: not for network `none`)
 *   Instance.save [root_device_name, task_state=spawning]         expected_task_state the one saved before
 *     (Nova saves block_device_mapping between the two; nothing is attached here, no volumes)
 *   the EC2 ids of Nova's database (EC2Ids.get_by_instance: EC2InstanceMapping made when first asked for),
 *   asked while the saves before go on,
 *   the security groups of the instance's ports in Neutron, asked as the user (InstanceMetadata's
 *   get_instance_security_groups; not the cast's security_groups, which name what was requested),
 *   the pipeline spawns (the drive and the metadata service carry Nova's i-%08x),
 *   Instance.save [vm_state=active, power_state=1, task_state=None, launched_at]   expected spawning
 *   event_finish_with_failure(exc_val None), while the ComputeNode update runs on (the build does not wait)
 * The cell's one nova-conductor makes every round trip of every build (bench/server-create.ts): a build
 * makes those Nova's steps need, and waits for none it does not depend on.
 * A failure that is final (permanent, or transient with no attempt left): InstanceFault.create with the
 * reason (compute_utils.add_instance_fault_from_exc), host/node/launched_on cleared and vm_state error,
 * task_state None (_nil_out_instance_obj_host_and_node, _set_instance_obj_error_state), the allocations
 * removed from placement, the event finished with the error; the domain is gone already (the pipeline
 * undefines what it defined). A transient failure with attempts left leaves the instance spawning and the
 * event open: the bus brings the message back.
 * A final failure of the spawn that another host may not have (this host's libvirt, disks or image cache,
 * not the request: see REQUEST_FAULTS) is rescheduled as _do_build_and_run_instance does on
 * RescheduledException, when the cast allows it (filter_properties has `retry`) and the scheduler left an
 * alternate host: Instance.save [host, node, launched_on = None, task_state=scheduling], the allocations
 * removed, then ComputeTaskAPI.build_instances cast with the remaining host_list; the conductor claims the
 * alternate and casts the build there. Unlike Nova, a build with no alternate left is not handed to the
 * conductor only to fail there with MaxRetriesExceeded ("Exhausted all hosts available..."): it goes to
 * ERROR here, its fault naming the real reason.
 *
 * At least once, never twice: on the message's first delivery the cast's instance is Nova's own (Nova's
 * manager builds from it without reading it again); a retried or redelivered build reads it first
 * (Instance.get_by_uuid), and the steps it has already passed are not saved again, nor its event started
 * again. An event_start that fails while the first save succeeds is logged and the build goes on without
 * its event (Nova would drop the build, leaving the instance in scheduling). A build
 * of an instance the user deleted meanwhile (InstanceNotFound, task_state deleting,
 * UnexpectedDeletingTaskStateError) stops: its domain is undefined, nothing is set to ERROR, and the
 * allocations are nova-api's delete to remove. Unlike Nova, whose _do_build_and_run_instance returns FAILED
 * instead of raising (so its event says Success), a failed build's event says Error, with the reason.
 */
import type { ServiceCatalog } from '../clients/catalog.js';
import { ServiceCallFailed } from '../clients/errors.js';
import type { NeutronClient } from '../clients/neutron.js';
import type { PlacementClient } from '../clients/placement.js';
import type { ComputeNodeKeeper } from '../conductor/compute-node-keeper.js';
import type { ComputeTaskApi } from '../conductor/compute-task-api.js';
import type { ConductorApi } from '../conductor/conductor-api.js';
import type { Logger, LogContext } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { BuildCast } from '../nova/build-and-run-instance.js';
import { isJsonObject } from '../nova/json-fields.js';
import { isNoAllocate, type NetworkRequest } from '../nova/requested-networks.js';
import type { NovaEc2Ids, SpawnRequest } from '../nova/spawn-request.js';
import { novaDateTime, WireObject, type FieldValue } from '../nova/wire-object.js';
import type { LibvirtConnection } from '../virt/connection.js';
import { NetworkRequestRefused } from '../network/errors.js';
import { networkInfoOf, type NetworkInfo } from '../network/network-api.js';
import { InstanceNetwork } from './instance-network.js';
import { InstanceBookkeeping, OperationStopped, UnexpectedTaskState, faultMessage, FAULT_MESSAGE_CHARS } from './instance-bookkeeping.js';
import { BuildRescheduled, OperationFailed } from './operation-failed.js';
import type { SpawnResult } from './spawn-result.js';
import type { Builder } from './compute-manager.js';
import type { SpawnAttempt, Spawner } from './spawner.js';
import { POWER_STATE } from './driver.js';

/** wrap_instance_event(prefix='compute') on _do_build_and_run_instance. */
export const BUILD_EVENT = 'compute__do_build_and_run_instance';

export interface NovaBuildDeps {
  conductor: ConductorApi;
  /** Where a build that failed here is rescheduled. */
  computeTask: Pick<ComputeTaskApi, 'buildInstances'>;
  placement: Pick<PlacementClient, 'deleteAllocations'>;
  /** The instance's security groups for its metadata, as the user sees them in Neutron. */
  neutron: Pick<NeutronClient, 'instanceSecurityGroups'>;
  /** The instance's ports: allocated and bound before the spawn, released when the build fails. */
  network: Pick<InstanceNetwork, 'allocate' | 'deallocate'>;
  nodes: Pick<ComputeNodeKeeper, 'update' | 'buildFailed' | 'buildSucceeded' | 'node'>;
  /** For a build stopped by a delete: its domain, if it got one, is destroyed and undefined. */
  connection: Pick<LibvirtConnection, 'removeDomain'>;
  /** [DEFAULT] host. */
  host: string;
  log: Logger;
  /** Every Instance.save timed (InstanceBookkeeping's); default none. */
  metrics?: Pick<Metrics, 'step'>;
  /** The root device name the spawn will give the instance, saved with spawning (Nova's with block_device_mapping). */
  rootDeviceName?: (request: SpawnRequest) => string;
  now?: () => Date;
}

type InstanceRecord = WireObject;

/** How far a build has come, as the instance in Nova's database shows it. */
enum Reached {
  Scheduled = 0,
  Building = 1,
  Claimed = 2,
  Networking = 3,
  BlockDeviceMapping = 4,
  Spawning = 5,
  Active = 6,
}

const TASK_STATE_REACHED: Readonly<Record<string, Reached>> = {
  networking: Reached.Networking,
  block_device_mapping: Reached.BlockDeviceMapping,
  spawning: Reached.Spawning,
};

/**
 * Causes that say the request cannot be built anywhere (Nova raises BuildAbortException for them instead of
 * rescheduling: ImageUnacceptable, FlavorDiskTooSmall, ...). ImageNotFound too, where Nova reschedules: Glance
 * is the same for every host.
 */
const REQUEST_FAULTS = new Set([
  'ImageUnacceptable', 'FlavorDiskSmallerThanImage', 'ImageNotFound', 'InvalidComputeRequest', 'InvalidNetworkInfoError', 'InvalidAddressError',
  // "Failed to allocate the network(s), not rescheduling.": the VIFs never came up (vif_plugging_timeout).
  'VirtualInterfaceCreateException',
]);

/** The Builder of a compute service of a control plane: Nova's build around `pipeline`. */
export class NovaBuild implements Builder {
  private readonly now: () => Date;

  constructor(
    private readonly pipeline: Spawner,
    private readonly deps: NovaBuildDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** A plain JSON request (no cast) is spawned as in standalone mode: Nova knows nothing of it. */
  build(request: SpawnRequest, cast: BuildCast | null, attempt: SpawnAttempt = { number: 1, last: true }): Promise<SpawnResult> {
    if (cast === null) return this.pipeline.spawn(request, attempt);
    return new Build(this.pipeline, this.deps, this.now, request, cast, attempt).run();
  }
}

/** One attempt at one build. */
class Build {
  private readonly uuid: string;
  private readonly context: Record<string, unknown>;
  private readonly book: InstanceBookkeeping;
  private readonly log: LogContext;
  private instance!: InstanceRecord;
  private eventStarted = false;
  /** The pipeline's spawn is under way: a failure now is the host's or the request's, not the conductor's. */
  private spawning = false;
  /** The ports allocated for the instance, once they are (the spawn's VIFs); released if the build fails. */
  private networkInfo: NetworkInfo | null = null;

  constructor(
    private readonly pipeline: Spawner,
    private readonly deps: NovaBuildDeps,
    private readonly now: () => Date,
    private readonly request: SpawnRequest,
    private readonly cast: BuildCast,
    private readonly attempt: SpawnAttempt,
  ) {
    this.uuid = request.instance.uuid;
    this.context = cast.context;
    this.book = new InstanceBookkeeping(deps, this.uuid, 'build', cast.context, attempt.number);
    this.log = this.book.log;
  }

  async run(): Promise<SpawnResult> {
    try {
      return await this.build();
    } catch (error) {
      const failure = this.book.asFailure(error, 'build');
      if (failure instanceof OperationStopped) {
        this.deps.log.info(`build stopped: ${failure.reason}`, this.log);
        if (failure.deleted) await this.undefineQuietly();
        // _do_build_and_run_instance on InstanceNotFound: the ports go too ("Instance disappeared during build").
        if (failure.deleted) await this.deallocateQuietly();
      } else if (failure.transient && !this.attempt.last) {
        this.deps.log.warning(`build attempt failed, the instance stays ${String(this.instance?.get('task_state') ?? 'building')}: ${failure.message}`, this.log);
      } else {
        const alternates = this.spawning ? this.alternates(failure) : null;
        if (alternates !== null) throw await this.reschedule(failure, alternates);
        await this.recordFailure(failure);
      }
      throw failure;
    }
  }

  private async build(): Promise<SpawnResult> {
    const { deps } = this;
    try {
      this.instance = WireObject.fromPrimitive(this.cast.instance, 'instance', 'Instance');
    } catch (error) {
      throw new OperationFailed(this.uuid, 'build', false, `the cast's instance cannot be saved back: ${(error as Error).message}`, { cause: error });
    }
    this.instance.resetChanges();
    const firstDelivery = this.attempt.number === 1 && this.attempt.redelivered === false;
    const reached = firstDelivery ? Reached.Scheduled : await this.reached();
    this.eventStarted = reached > Reached.Scheduled;
    if (reached < Reached.Claimed) await this.claim(reached);
    // Asked while the saves go on: the instance's EC2 ids depend on none of them.
    const ec2Ids = this.ec2Ids();
    ec2Ids.catch(() => undefined);
    // Nova saves task_state networking and then block_device_mapping at every build. Here a task state is
    // saved where the build waits on its step: networking when there are ports to allocate (not for network
    // `none`), block_device_mapping never (no volumes are attached; the root device's name goes with the
    // spawning save). Each is a nova-conductor round trip on the build's path, two of six for `--nic none`.
    const requested = InstanceNetwork.requested(this.cast.args);
    let taskState: string | null = reached === Reached.BlockDeviceMapping ? 'block_device_mapping' : reached === Reached.Networking ? 'networking' : null;
    if (reached < Reached.Networking && !isNoAllocate(requested)) {
      await this.save({ vm_state: 'building', task_state: 'networking' }, [null]);
      taskState = 'networking';
    }
    // _build_networks_for_instance: allocated while the next save goes on, as Nova's async allocation (a
    // failure is the spawn's: PortBindingFailed may be this host's, and is rescheduled).
    const allocating = this.allocateNetwork(requested, reached >= Reached.Networking);
    allocating.catch(() => undefined);
    // The groups of the instance's ports, asked once they are allocated, while the saves go on.
    const securityGroups = allocating.then(() => this.securityGroups());
    securityGroups.catch(() => undefined);
    if (reached < Reached.Spawning) {
      // _default_block_device_names names the root disk before the driver spawns.
      const named: Record<string, FieldValue> = {};
      if (!this.instance.get('root_device_name') && deps.rootDeviceName) named['root_device_name'] = deps.rootDeviceName(this.request);
      await this.save({ ...named, vm_state: 'building', task_state: 'spawning' }, [taskState]);
    }

    const ids = await ec2Ids;
    // Nova asks Neutron while the driver spawns (_create_configdrive), once the ports are the instance's:
    // a failure there is the spawn's.
    this.spawning = true;
    const allocated = await allocating;
    this.networkInfo = allocated ?? networkInfoOf([]);
    // Saved with the build's next save (Nova's _allocate_network_async does not save it either).
    if (allocated !== null) this.instance.set('system_metadata', this.systemMetadata({ network_allocated: 'True' }));
    const request: SpawnRequest = {
      ...this.request,
      security_groups: await securityGroups,
      instance: { ...this.request.instance, ec2_ids: ids, network_info: this.networkInfo.vifs },
    };
    const result = await this.pipeline.spawn(request, this.attempt);
    this.spawning = false;

    if (reached < Reached.Active) {
      // _update_instance_after_spawn: configdrive.update_instance before launched_at is set.
      const changes: Record<string, FieldValue> = { power_state: POWER_STATE.RUNNING, vm_state: 'active', task_state: null };
      if (result.drive !== 'none' && !this.instance.get('config_drive')) changes['config_drive'] = 'True';
      changes['launched_at'] = novaDateTime(this.now());
      await this.save(changes, ['spawning']);
    }
    deps.nodes.buildSucceeded();
    this.updateNode();
    if (this.eventStarted) await this.book.eventFinish(BUILD_EVENT, null);
    deps.log.info(`instance ${reached === Reached.Active ? 'was ACTIVE already' : 'is ACTIVE'}`, { ...this.log, domain: result.domain });
    return result;
  }

  /**
   * The instance's ports, allocated and bound to this host, the info cache saved (InstanceNetwork). A build
   * that may have allocated them before (a retried or redelivered one past networking) reads them back.
   * system_metadata network_allocated goes with the next save, as in Nova. Null for network `none`.
   */
  private async allocateNetwork(requested: NetworkRequest[] | null, mayBeAllocated: boolean): Promise<NetworkInfo | null> {
    const securityGroups = Array.isArray(this.cast.args['security_groups']) ? (this.cast.args['security_groups'] as unknown[]).filter((name): name is string => typeof name === 'string') : [];
    return this.deps.network.allocate(this.book, this.instance, this.context, requested, securityGroups, mayBeAllocated);
  }

  /**
   * _cleanup_allocated_networks: the ports this build allocated (or the user passed in) released, and
   * system_metadata network_allocated False for the next save to carry; never throws.
   */
  private async deallocateQuietly(): Promise<void> {
    if (this.instance === undefined) return;
    await this.book.quietly('deallocate_for_instance', async () => {
      await this.deps.network.deallocate(this.book, this.instance, this.context, InstanceNetwork.requested(this.cast.args), this.networkInfo?.json ?? null);
      this.instance.set('system_metadata', this.systemMetadata({ network_allocated: 'False' }));
    });
  }

  /**
   * _do_build_and_run_instance's first save and rt.instance_claim's (the instance is this host's;
   * _build_and_run_instance caches the boot roles) as one, the event started meanwhile (wrap_instance_event)
   * unless it was before.
   */
  private async claim(reached: Reached): Promise<void> {
    const { deps } = this;
    deps.log.debug('Starting instance...', this.log);
    const roles = Array.isArray(this.context['roles']) ? (this.context['roles'] as unknown[]).join(',') : '';
    const changes = { vm_state: 'building', task_state: null, host: deps.host, node: this.nodeName(), launched_on: deps.host, system_metadata: this.systemMetadata({ boot_roles: roles }) };
    const start = reached === Reached.Scheduled;
    const [event, saved] = await Promise.allSettled([start ? this.book.eventStart(BUILD_EVENT) : null, this.save(changes, ['scheduling', null])]);
    if (start) this.eventStarted = event.status === 'fulfilled';
    if (saved.status === 'rejected') {
      // Nova gives up quietly here (build_results.FAILED): another build or a delete has the instance.
      if (saved.reason instanceof UnexpectedTaskState) throw new OperationStopped(this.uuid, 'build', saved.reason.reason, false, { cause: saved.reason });
      throw saved.reason;
    }
    if (event.status === 'rejected') deps.log.warning(`the build goes on without its event: ${(event.reason as Error).message}`, this.log);
  }

  /** Instance.get_by_uuid: where the build is. Stops the build of a deleted instance or one not ours. */
  private async reached(): Promise<Reached> {
    const current = (await this.book.step('Instance.get_by_uuid', () =>
      this.deps.conductor.classActionObject('Instance', 'get_by_uuid', 'Instance', [this.uuid], { expected_attrs: [] }, this.context),
    )) as InstanceRecord | null;
    if (current === null) throw new OperationStopped(this.uuid, 'build', 'the instance is gone', true);
    const vmState = current.get('vm_state') ?? null;
    const taskState = current.get('task_state') ?? null;
    const host = current.get('host') ?? null;
    if (taskState === 'deleting' || vmState === 'deleted' || vmState === 'soft-delete') throw new OperationStopped(this.uuid, 'build', `the instance is being deleted (vm_state ${String(vmState)}, task_state ${String(taskState)})`, true);
    if (host !== null && host !== this.deps.host) throw new OperationStopped(this.uuid, 'build', `the instance is on host ${String(host)} now`, false);
    if (vmState === 'active' && taskState === null) return Reached.Active;
    if (vmState !== 'building') throw new OperationStopped(this.uuid, 'build', `the instance is ${String(vmState)} (task_state ${String(taskState)}), not building`, false);
    if (taskState === 'scheduling') return Reached.Scheduled;
    if (taskState === null) return host === null ? Reached.Building : Reached.Claimed;
    const reached = TASK_STATE_REACHED[String(taskState)];
    if (reached === undefined || host === null) throw new OperationStopped(this.uuid, 'build', `the instance's task_state is ${String(taskState)}`, false);
    return reached;
  }

  /** The instance's system_metadata with `entries` set, for a save to carry. */
  private systemMetadata(entries: Record<string, string>): FieldValue {
    return { ...((this.instance.get('system_metadata') as Record<string, FieldValue> | undefined) ?? {}), ...entries } as FieldValue;
  }

  /** The node to record: the scheduler's choice, else the node this host reports. */
  private nodeName(): string {
    return this.cast.node ?? this.deps.nodes.node?.hypervisor_hostname ?? this.deps.host;
  }

  /**
   * instance.ec2_ids: set in the cast when the conductor's Instance.create loaded them; else
   * EC2Ids.get_by_instance, which makes the EC2InstanceMapping (and S3ImageMapping) rows when missing.
   */
  private async ec2Ids(): Promise<NovaEc2Ids> {
    let ids = this.instance.get('ec2_ids');
    if (!(ids instanceof WireObject)) {
      ids = (await this.book.step('EC2Ids.get_by_instance', () => this.deps.conductor.classActionObject('EC2Ids', 'get_by_instance', 'EC2Ids', [this.instance], {}, this.context))) ?? undefined;
    }
    if (!(ids instanceof WireObject) || typeof ids.get('instance_id') !== 'string') {
      throw new OperationFailed(this.uuid, 'build', false, 'Nova gave no EC2 ids for the instance');
    }
    const text = (field: string): string | null => (typeof ids.get(field) === 'string' ? (ids.get(field) as string) : null);
    return { instance_id: ids.get('instance_id') as string, ami_id: text('ami_id'), kernel_id: text('kernel_id'), ramdisk_id: text('ramdisk_id') };
  }

  private async securityGroups(): Promise<string[]> {
    const catalog = this.context['service_catalog'];
    const user = { auth_token: typeof this.context['auth_token'] === 'string' ? this.context['auth_token'] : null, service_catalog: Array.isArray(catalog) ? (catalog as ServiceCatalog) : [] };
    try {
      return await this.deps.neutron.instanceSecurityGroups(user, this.uuid);
    } catch (error) {
      const transient = error instanceof ServiceCallFailed && error.retryable;
      throw new OperationFailed(this.uuid, 'network', transient, `the instance's security groups: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Instance.save(expected_task_state) with `changes` set: a delete meanwhile stops the build
   * (OperationStopped), another task state fails it (UnexpectedTaskState, Nova's BuildAbortException).
   */
  private save(changes: Record<string, FieldValue>, expected: (string | null)[] | undefined): Promise<void> {
    return this.book.save(this.instance, changes, expected);
  }

  /**
   * The alternate hosts to reschedule `failure` to, or null when Nova would not reschedule: the request
   * itself is at fault, the cast has no `retry` (a forced host, [scheduler] max_attempts 1), or no host is left.
   */
  private alternates(failure: OperationFailed): unknown[] | null {
    const cause = (failure.cause as { name?: unknown } | undefined)?.name;
    if (typeof cause === 'string' && REQUEST_FAULTS.has(cause)) return null;
    // A port this host could not bind may bind on another (Nova reschedules PortBindingFailed); the other
    // refusals (PortInUse, NetworkNotFound, ...) are the request's.
    if (failure.cause instanceof NetworkRequestRefused && failure.cause.kind !== 'PortBindingFailed') return null;
    const filterProperties = this.cast.args['filter_properties'];
    const hostList = this.cast.args['host_list'];
    if (!isJsonObject(filterProperties) || !isJsonObject(filterProperties['retry'])) return null;
    return Array.isArray(hostList) && hostList.length > 0 ? hostList : null;
  }

  /**
   * _do_build_and_run_instance on RescheduledException: the instance handed back to the conductor with
   * the rest of the host list. Resolves with what the build throws: BuildRescheduled once the broker has
   * the cast; `failure` itself when the reschedule could not be done (then recorded as a final failure), or
   * OperationStopped when the instance was deleted meanwhile.
   */
  private async reschedule(failure: OperationFailed, hostList: unknown[]): Promise<OperationFailed> {
    const { deps } = this;
    const reason = faultMessage(failure);
    deps.log.warning(`build failed on this host, rescheduling it (${hostList.length} alternate host(s) left): ${failure.message}`, this.log);
    const filterProperties = this.cast.args['filter_properties'] as Record<string, unknown>;
    // retry.exc (traceback.format_exception's lines) is what the conductor logs; exc_reason its fault's text.
    const retry = { ...(filterProperties['retry'] as Record<string, unknown>), exc: [`${failure.stack ?? failure.message}\n`], exc_reason: reason };
    try {
      // The libvirt driver's deallocate_networks_on_reschedule: the next host allocates and binds them again.
      await this.deallocateQuietly();
      await this.save({ host: null, node: null, launched_on: null, task_state: 'scheduling' }, undefined);
      // Unclaimed before the cast, so that the conductor can claim the alternate host for the instance.
      await deps.placement.deleteAllocations(this.uuid);
      const args = this.cast.args;
      await deps.computeTask.buildInstances(this.context, {
        instances: [this.instance],
        image: args['image'] ?? {},
        filter_properties: { ...filterProperties, retry },
        admin_password: args['admin_password'] ?? null,
        injected_files: args['injected_files'] ?? [],
        requested_networks: args['requested_networks'] ?? null,
        security_groups: args['security_groups'] ?? [],
        request_spec: args['request_spec'] ?? null,
        host_lists: [hostList],
      });
    } catch (error) {
      if (error instanceof OperationStopped) {
        deps.log.info(`build stopped: ${error.reason}`, this.log);
        if (error.deleted) await this.undefineQuietly();
        return error;
      }
      deps.log.error(`could not reschedule the build: ${(error as Error).message}`, this.log);
      await this.recordFailure(failure);
      return failure;
    }
    deps.nodes.buildFailed();
    this.updateNode();
    if (this.eventStarted) await this.book.eventFinish(BUILD_EVENT, failure, `${reason.slice(0, FAULT_MESSAGE_CHARS - 14)} (rescheduled)`);
    deps.log.info('build rescheduled through the conductor', this.log);
    return new BuildRescheduled(this.uuid, failure.step, reason, { cause: failure });
  }

  /**
   * The failure is final: what _do_build_and_run_instance does when it will not reschedule, and what
   * _locked_do_build_and_run_instance does for a FAILED build. Each part is tried whatever the others do.
   */
  private async recordFailure(failure: OperationFailed): Promise<void> {
    const { deps, book } = this;
    deps.log.error(`build failed, the instance goes to ERROR: ${failure.message}`, this.log);
    await book.recordFault(failure);
    await this.deallocateQuietly();
    if (this.instance !== undefined) {
      await book.quietly('Instance.save (ERROR)', async () => {
        try {
          await this.save({ host: null, node: null, launched_on: null, vm_state: 'error', task_state: null }, undefined);
        } catch (error) {
          // _set_instance_obj_error_state: an instance destroyed from under us is left so.
          if (!(error instanceof OperationStopped)) throw error;
        }
      });
    }
    await book.quietly('DELETE /allocations', () => deps.placement.deleteAllocations(this.uuid));
    deps.nodes.buildFailed();
    this.updateNode();
    if (this.eventStarted) await book.eventFinish(BUILD_EVENT, failure);
  }

  /**
   * The node's usage, updated in the background: a build does not hold its slot for it, and the updates
   * asked for meanwhile run as one (ComputeNodeKeeper.update).
   */
  private updateNode(): void {
    void this.book.quietly('ComputeNode update', () => this.deps.nodes.update());
  }

  /** A build stopped by a delete leaves no domain behind (the instance directory is kept, as after a failure). */
  private async undefineQuietly(): Promise<void> {
    try {
      const domain = await this.deps.connection.removeDomain(this.uuid);
      if (domain !== null) this.deps.log.info('domain undefined: its instance was deleted', { ...this.log, domain });
    } catch (error) {
      this.deps.log.warning(`could not undefine the domain of the stopped build: ${(error as Error).message}`, this.log);
    }
  }
}
