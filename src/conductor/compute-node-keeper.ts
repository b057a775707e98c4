/**
 * The ComputeNode record of this host, kept current through nova-conductor as Nova's resource tracker
 * keeps it (nova/compute/resource_tracker.py _init_compute_node, _copy_resources, _update):
 * - the first update: ComputeNode.get_by_host_and_nodename(host, node); ComputeHostNotFound: a new
 *   ComputeNode with the host's resources and the initial_*_allocation_ratio options (the *_allocation_ratio
 *   ones when set), created by the conductor (which gives it its uuid);
 * - every update: the host's resources read again and copied onto the record, and the record saved only when
 *   a field's value changed, with those fields as its changes (Nova's _resource_change + ComputeNode.save);
 *   a configured *_allocation_ratio replaces the node's, an unset one leaves it to the operator;
 * - updates run every update_resources_interval seconds (0: Nova's periodic spacing, 60 s; negative: only
 *   on demand) and whenever update() is called (a build or delete changed the usage). They run one at a
 *   time; calls made while one runs share the next one.
 * A failed update (conductor lost, libvirt down) is logged and left to the next; the record keeps its
 * unsaved changes, so the next save sends them.
 */
import { RpcCallError } from '../bus/rpc-call-error.js';
import type { NovaConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ComputeNodeFields, HVSpecFields } from '../nova/compute-objects.js';
import { WireObject } from '../nova/wire-object.js';
import type { ComputeNodeSummary } from '../resources/compute-node-summary.js';
import type { HostResources } from '../resources/host-resources.js';
import type { ConductorApi } from './conductor-api.js';

/** The allocation ratio options. */
export type AllocationRatioOptions = Pick<
  NovaConfig['DEFAULT'],
  'cpu_allocation_ratio' | 'initial_cpu_allocation_ratio' | 'ram_allocation_ratio' | 'initial_ram_allocation_ratio' | 'disk_allocation_ratio' | 'initial_disk_allocation_ratio'
>;

export interface ComputeNodeKeeperOptions {
  conductor: ConductorApi;
  /** [DEFAULT] host. */
  host: string;
  /** The host's resources now (resources/host-resources.ts HostResourceReader.read). */
  readResources: () => Promise<HostResources>;
  ratios: AllocationRatioOptions;
  /** [DEFAULT] update_resources_interval, seconds: 0 means 60, negative only on demand. */
  updateResourcesIntervalS: number;
  log: Logger;
  /** Called after every update that reached the conductor (saved or unchanged): the placement reporter's cue. */
  onUpdate?: (node: ComputeNodeSummary) => Promise<void> | void;
}

export type ComputeNodeRecord = WireObject<ComputeNodeFields>;

const DEFAULT_PERIOD_S = 60;
const RESOURCES = ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'disk_available_least',
  'hypervisor_type', 'hypervisor_version', 'hypervisor_hostname', 'cpu_info', 'host_ip', 'running_vms', 'current_workload', 'numa_topology'] as const;

export class ComputeNodeKeeper {
  private record: ComputeNodeRecord | null = null;
  private summary: ComputeNodeSummary | null = null;
  private failedBuilds = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The update running, and the one queued behind it (shared by every caller that asked meanwhile). */
  private current: Promise<ComputeNodeSummary> | null = null;
  private queued: Promise<ComputeNodeSummary> | null = null;
  private readonly firstSaved: Promise<ComputeNodeSummary>;
  private resolveFirst!: (node: ComputeNodeSummary) => void;

  constructor(private readonly options: ComputeNodeKeeperOptions) {
    this.firstSaved = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  /** The node as last saved; null before the first update succeeded. */
  get node(): ComputeNodeSummary | null {
    return this.summary;
  }

  /** The record as last saved (every field the conductor gave), null before the first update. */
  get computeNode(): ComputeNodeRecord | null {
    return this.record;
  }

  /** Resolves once the node exists in Nova (the first successful update). */
  ready(): Promise<ComputeNodeSummary> {
    return this.firstSaved;
  }

  /** Starts the periodic updates, the first at once (retried every 5 s until it succeeds). */
  start(): void {
    const periodS = this.options.updateResourcesIntervalS === 0 ? DEFAULT_PERIOD_S : this.options.updateResourcesIntervalS;
    const tick = (): void => {
      if (this.stopped) return;
      this.update().then(
        () => (periodS > 0 ? this.schedule(tick, periodS * 1000) : undefined),
        () => this.schedule(tick, Math.min(5_000, periodS > 0 ? periodS * 1000 : 5_000)),
      );
    };
    tick();
  }

  /** Ends the periodic updates; resolves when an update in flight has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await Promise.allSettled([this.current, this.queued]);
  }

  /** stats' failed_builds, as Nova's build_failed / build_succeeded keep it (the next update saves it). */
  buildFailed(): void {
    this.failedBuilds++;
  }

  buildSucceeded(): void {
    this.failedBuilds = 0;
  }

  /**
   * Reads the host's resources and saves what changed; resolves with the node. Called by the build and
   * delete paths when usage changed; rejects with the update's failure (RpcCallError, a libvirt failure).
   */
  update(): Promise<ComputeNodeSummary> {
    if (this.queued !== null) return this.queued;
    if (this.current === null) return this.begin();
    this.queued = this.current.catch(() => undefined).then(() => {
      this.queued = null;
      return this.begin();
    });
    return this.queued;
  }

  private begin(): Promise<ComputeNodeSummary> {
    const run = this.run().finally(() => {
      if (this.current === run) this.current = null;
    });
    this.current = run;
    run.catch((error: unknown) => this.options.log.warning(`could not update the compute node of ${this.options.host}: ${(error as Error).message}`));
    return run;
  }

  private schedule(tick: () => void, ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(tick, ms);
    this.timer.unref?.();
  }

  private async run(): Promise<ComputeNodeSummary> {
    const began = Date.now();
    const resources = await this.options.readResources();
    const { conductor, host, log } = this.options;
    let record = this.record;
    let created = false;
    if (record === null) {
      record = await this.find(resources.hypervisor_hostname);
      if (record === null) {
        record = new WireObject<ComputeNodeFields>('ComputeNode', { host });
        this.copy(record, resources, true);
        await conductor.objectAction(record, 'create');
        created = true;
        log.info(`Compute node record created for ${host}:${resources.hypervisor_hostname} with uuid: ${record.get('uuid')}`);
      }
      this.record = record;
    }
    if (!created) {
      this.copy(record, resources, false);
      const changes = record.whatChanged();
      if (changes.length > 0) {
        await conductor.objectAction(record, 'save');
        log.debug(`compute node ${record.get('uuid')} saved`, { changes: changes.join(','), ms: Date.now() - began });
      }
    }
    const summary = summarize(record);
    this.summary = summary;
    this.resolveFirst(summary);
    await this.options.onUpdate?.(summary);
    return summary;
  }

  /** get_by_host_and_nodename; null for ComputeHostNotFound (Nova's _get_compute_node catches NotFound). */
  private async find(nodename: string): Promise<ComputeNodeRecord | null> {
    try {
      return await this.options.conductor.classActionObject<ComputeNodeFields>('ComputeNode', 'get_by_host_and_nodename', 'ComputeNode', [this.options.host, nodename]);
    } catch (error) {
      if (error instanceof RpcCallError && error.remote !== null && /NotFound$/.test(error.remote.className)) {
        this.options.log.warning(`No compute node record for ${this.options.host}:${nodename}`);
        return null;
      }
      throw error;
    }
  }

  /** _copy_resources + update_from_virt_driver + _update_usage_from_instances' fields, set where they differ. */
  private copy(record: ComputeNodeRecord, resources: HostResources, initial: boolean): void {
    for (const field of RESOURCES) record.update(field, resources[field]);
    record.update('stats', { ...resources.stats, failed_builds: String(this.failedBuilds) });
    const specs = resources.supported_hv_specs;
    const current = record.get('supported_hv_specs')?.map((spec) => spec.toJSON());
    if (current === undefined || JSON.stringify(current) !== JSON.stringify(specs)) {
      record.set('supported_hv_specs', specs.map((spec) => new WireObject<HVSpecFields>('HVSpec', { ...spec })));
    }
    // The monitors' metrics (none configured: an empty list) and the PCI tracker's pools (no PCI devices).
    record.update('metrics', '[]');
    if (!record.has('pci_device_pools') || record.get('pci_device_pools') === null) record.set('pci_device_pools', new WireObject('PciDevicePoolList', { objects: [] }));
    const { ratios } = this.options;
    for (const resource of ['cpu', 'ram', 'disk'] as const) {
      const configured = initial ? ratios[`initial_${resource}_allocation_ratio`] : ratios[`${resource}_allocation_ratio`];
      // Nova: a ratio of None (or the old default 0.0) leaves the node's value alone.
      if (configured !== null && configured !== 0) record.update(`${resource}_allocation_ratio`, configured);
    }
  }
}

function summarize(record: ComputeNodeRecord): ComputeNodeSummary {
  const need = <K extends keyof ComputeNodeFields & string>(field: K): ComputeNodeFields[K] => record.require(field);
  return {
    uuid: need('uuid'),
    id: need('id'),
    host: need('host') ?? '',
    hypervisor_hostname: need('hypervisor_hostname') ?? '',
    vcpus: need('vcpus'),
    memory_mb: need('memory_mb'),
    local_gb: need('local_gb'),
    vcpus_used: need('vcpus_used'),
    memory_mb_used: need('memory_mb_used'),
    local_gb_used: need('local_gb_used'),
    cpu_allocation_ratio: need('cpu_allocation_ratio'),
    ram_allocation_ratio: need('ram_allocation_ratio'),
    disk_allocation_ratio: need('disk_allocation_ratio'),
  };
}
