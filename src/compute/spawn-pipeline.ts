/**
 * The libvirt driver's spawn() (nova/virt/libvirt/driver.py): instance directory, disks, then the domain
 * defined while its config drive, libvirt.xml and metadata record are written (Nova defines first and builds
 * the drive after; nothing can tell, as the guest starts only once all are done), then start. Unlike Nova it
 * is idempotent per instance uuid, so the bus can redeliver a spawn after a crash: a running domain is left
 * alone, a defined but shut off one is finished, an existing drive or disk is never replaced.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { placeDrive, type ConfigDriveFormat } from '../configdrive/make-drive.js';
import { requiredBy } from '../configdrive/required-by.js';
import { toDriveTree, type InstanceMetadata } from '../metadata/instance-metadata.js';
import { NO_METRICS, timed, type Metrics } from '../metrics/metrics.js';
import { requestLogContext, type LogContext, type Logger } from '../log.js';
import type { SpawnRequest, Vif } from '../nova/spawn-request.js';
import { DirectorySyncGroup, parentsOfCreated, replaceFile, syncPath } from '../durable-files.js';
import type { LibvirtConnection } from '../virt/connection.js';
import { instanceDir } from '../virt/instance-paths.js';
import type { DomainIdentity } from '../virt/connection.js';
import { LinuxBridges, plugVifs, type HostBridges } from '../virt/vif-plug.js';
import type { DiskPreparer } from './disk-preparer.js';
import { eventKey, type InstanceEvents } from './instance-events.js';
import { OperationFailed } from './operation-failed.js';
import { asOperationFailed } from './failure.js';
import { guestFilesIn, planSpawn, type GuestFiles, type SpawnPlanOptions } from './spawn-plan.js';
import type { SpawnResult } from './spawn-result.js';
import type { Spawner } from './spawner.js';

/**
 * Where a spawn records its instance's metadata, for the metadata service to serve (MetadataRegistry). A
 * record is never replaced: a spawn run again keeps the first one, as it keeps the first drive.
 */
export interface SpawnRecords {
  recordSpawn(request: SpawnRequest, metadata: InstanceMetadata): Promise<'created' | 'exists'>;
}

export interface SpawnPipelineOptions extends SpawnPlanOptions {
  /** [DEFAULT] vif_plugging_timeout (seconds; 0: do not wait) and vif_plugging_is_fatal; Nova's 300 and true by default. */
  vifPlugging?: { timeout: number; fatal: boolean };
  drive: {
    format: ConfigDriveFormat;
    force_config_drive: boolean;
    /** An operator's explicit [DEFAULT] mkisofs_cmd, else null for the built-in writer. */
    mkisofsCmd: string | null;
  };
}

export interface SpawnPipelineDeps {
  connection: LibvirtConnection;
  disks: DiskPreparer;
  log: Logger;
  /**
   * Told every instance's metadata before its guest starts: a step of every spawn, whoever asked for it.
   * The pipeline syncs the instance directory after it: a file written there needs only its own data synced.
   */
  records: SpawnRecords;
  /** The bridges VIFs are plugged into: this host's Linux bridges by default. */
  bridges?: HostBridges;
  /**
   * Where network-vif-plugged arrives (external_instance_event): with a control plane only; without one
   * nobody sends events, and a spawn does not wait for them.
   */
  events?: InstanceEvents | null;
  /** The drive, define and start steps (start: until the guest runs, network-vif-plugged awaited), timed; default none. */
  metrics?: Pick<Metrics, 'step'>;
  now?: () => Date;
}

/** Nova's VirtualInterfaceCreateException: the VIFs never came up (the fault names what was missing). */
export class VirtualInterfaceCreate extends Error {
  override readonly name = 'VirtualInterfaceCreateException';
  constructor(readonly reason: string) {
    super(`Virtual Interface creation failed: ${reason}`);
  }
}

/** _get_neutron_events: network-vif-plugged of every VIF not active yet (a remote-managed one never says). */
function neutronEvents(networkInfo: readonly Vif[]): string[] {
  return networkInfo.filter((vif) => !vif.active && vif.vnic_type !== 'remote-managed').map((vif) => eventKey('network-vif-plugged', vif.id));
}

/** What every log line of a spawn names. */
type SpawnLogContext = LogContext & { instance: string };

/** What a dry run shows: the domain and the drive a spawn would make, with nothing created. */
export interface SpawnPlan {
  xml: string;
  drive: ReturnType<typeof toDriveTree> | null;
}

export class SpawnPipeline implements Spawner {
  /** instances_path gets an entry per spawn: concurrent spawns share its syncs. */
  private readonly parentSyncs = new DirectorySyncGroup();
  private readonly now: () => Date;
  private readonly bridges: HostBridges;

  constructor(
    private readonly options: SpawnPipelineOptions,
    private readonly deps: SpawnPipelineDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
    this.bridges = deps.bridges ?? new LinuxBridges();
  }

  /** One spawn at a time per instance is the compute manager's to ensure (its per-uuid lock). */
  spawn(request: SpawnRequest): Promise<SpawnResult> {
    return this.run(request);
  }

  private driveFormat(request: SpawnRequest): ConfigDriveFormat | null {
    const { instance, image } = request;
    return requiredBy(instance, image, this.options.drive) ? this.options.drive.format : null;
  }

  private planFor(request: SpawnRequest, files: GuestFiles) {
    const configDrive = this.driveFormat(request);
    return { configDrive, ...planSpawn(request, this.options, files, configDrive, this.now()) };
  }

  /** The plan of a spawn before its disks are prepared: the files named as the disks step would name them. */
  private planUnprepared(request: SpawnRequest) {
    return this.planFor(request, guestFilesIn(instanceDir(this.options.virt.instances_path, request.instance.uuid), request));
  }

  /** The domain XML and drive tree a spawn would produce, without touching libvirt or the disk. */
  dryRun(request: SpawnRequest): SpawnPlan {
    const { configDrive, xml, metadata } = this.planUnprepared(request);
    return { xml, drive: configDrive ? toDriveTree(metadata) : null };
  }

  /**
   * The root disk's device name a spawn gives the instance (/dev/vda), as Nova's compute manager names it
   * before the driver spawns (_default_block_device_names): planned only, nothing touched.
   */
  rootDeviceName(request: SpawnRequest): string {
    return this.planUnprepared(request).named.instance.root_device_name!;
  }

  private async run(request: SpawnRequest): Promise<SpawnResult> {
    const { uuid } = request.instance;
    const log = this.deps.log;
    const metrics = this.deps.metrics ?? NO_METRICS;
    const context: SpawnLogContext = { instance: uuid, ...requestLogContext(request.context) };
    let step = 'lookup';
    let defined: string | null = null;
    try {
      const existing = await this.deps.connection.lookupByUuid(uuid);
      if (existing?.state === 'running') {
        log.info('domain already running: nothing to do', { ...context, domain: existing.name });
        return { uuid, domain: existing.name, outcome: 'already-running', drive: this.driveFormat(request) ? 'exists' : 'none' };
      }

      step = 'prepare';
      const directory = instanceDir(this.options.virt.instances_path, uuid);
      // 0755: qemu runs as libvirt-qemu and opens the drive, disks and console log in here.
      const created = await mkdir(directory, { recursive: true, mode: 0o755 });
      step = 'image';
      const { configDrive, xml, metadata, named } = this.planFor(request, await this.deps.disks.prepare(request, directory));

      if (existing) log.info('domain exists but is shut off: finishing its spawn', { ...context, domain: existing.name, state: existing.state });
      // Each part fails as its own step; all of them settle before a failure is thrown, so a domain this
      // spawn defined is known (and undefined) even when another part failed first.
      const asStep = (part: string) => (error: unknown): never => {
        throw asOperationFailed(uuid, part, error);
      };
      const defining = existing
        ? Promise.resolve(existing)
        : timed(metrics, 'define', () => this.deps.connection.define(xml)).then((identity) => {
            defined = identity.name;
            log.info('domain defined', { ...context, domain: identity.name });
            return identity;
          }, asStep('define'));
      const placing = timed(metrics, 'drive', () => this.placeDrive(configDrive, metadata, directory, context)).catch(asStep('drive'));
      const definedAndPlaced = Promise.all([defining, placing]);
      // Each on its own: definedAndPlaced settles at the first failure, perhaps before define has.
      const parts = await Promise.allSettled([
        defining,
        placing,
        // libvirt.xml is for operators and for recovery: never half-written, not even after a power cut.
        replaceFile(join(directory, 'libvirt.xml'), xml).catch(asStep('libvirt.xml')),
        // Only once the drive is in place, and only for a defined domain: a record is never replaced, so one
        // written beside a drive that then failed would keep other random seeds than the retry's drive.
        definedAndPlaced.then(
          () => this.deps.records.recordSpawn(named, metadata).catch(asStep('metadata')),
          () => undefined,
        ),
      ]);
      const failed = parts.find((part) => part.status === 'rejected');
      if (failed) throw failed.reason;
      const [domain, drive] = await definedAndPlaced;

      // One sync of the instance directory makes every name in it durable (libvirt.xml, the disks, the
      // drive, the metadata record; their data is synced already), one of instances_path its own name (every
      // time: an earlier attempt may have died between its mkdir and this sync), and one of any directory
      // above that mkdir added to. The guest starts, and the bus acks, once all it needs survives a power cut.
      step = 'sync';
      const instancesPath = this.options.virt.instances_path;
      const above = parentsOfCreated(instancesPath, created).map(syncPath);
      await Promise.all([syncPath(directory), this.parentSyncs.sync(instancesPath), ...above]);

      step = 'start';
      await timed(metrics, 'start', () => this.startWithNetwork(request, domain, existing?.state === 'paused', context));
      return { uuid, domain: domain.name, outcome: existing ? 'resumed' : 'spawned', drive };
    } catch (error) {
      const failure = asOperationFailed(uuid, step, error);
      log.error(failure.message, { ...context, transient: failure.transient });
      if (defined) await this.undefineQuietly(context);
      throw failure;
    }
  }

  /**
   * _create_guest_with_network: a waiter for network-vif-plugged of every VIF Neutron has not reported
   * ACTIVE (_get_neutron_events), registered before the VIFs are plugged; the guest started paused until they
   * all arrived, vif_plugging_timeout at most; then resumed. A timeout or a `failed` event fails the spawn when
   * vif_plugging_is_fatal (VirtualInterfaceCreateException), else is logged and the guest runs on.
   * @unraid/libvirt has no virDomainCreateWithFlags(START_PAUSED): the domain is suspended right after its
   * start, before its firmware has got anywhere near the guest's network setup.
   * A domain found paused (a spawn that died waiting) is not started again, only waited for and resumed.
   */
  private async startWithNetwork(request: SpawnRequest, domain: DomainIdentity, paused: boolean, context: SpawnLogContext): Promise<void> {
    const { connection, log } = this.deps;
    const events = this.deps.events ?? null;
    const { timeout, fatal } = this.options.vifPlugging ?? { timeout: 300, fatal: true };
    const keys = events !== null && timeout > 0 ? neutronEvents(request.instance.network_info) : [];
    const waiter = keys.length > 0 ? events!.prepare(request.instance.uuid, keys) : null;
    try {
      await plugVifs(request.instance.network_info, this.bridges, log, context).catch((error: unknown) => {
        throw asOperationFailed(request.instance.uuid, 'plug_vifs', error);
      });
      if (!paused) {
        await connection.start(domain);
        if (waiter !== null) await connection.suspend(domain.name);
        log.info(waiter === null ? 'domain started' : `domain started paused, waiting up to ${timeout} s for ${keys.join(', ')}`, { ...context, domain: domain.name });
      }
      if (waiter === null) return;
      const began = Date.now();
      const { received, missing, cleared } = await waiter.wait(timeout * 1000);
      if (cleared) {
        // A delete took the instance's events: the build's next save finds it deleting and stops.
        log.info('waiting for network-vif-plugged ended: the instance is being deleted', { ...context, domain: domain.name });
        return;
      }
      const failed = [...received].filter(([, status]) => status !== 'completed').map(([key]) => key);
      const problem = failed.length > 0 ? `Neutron reported failure on ${failed.join(', ')}` : missing.length > 0 ? `timed out after ${timeout} s waiting for ${missing.join(', ')}` : null;
      if (problem !== null) {
        if (fatal) throw new OperationFailed(request.instance.uuid, 'vif_plugging', false, problem, { cause: new VirtualInterfaceCreate(problem) });
        log.warning(`${problem}; going on as vif_plugging_is_fatal is false`, { ...context, domain: domain.name });
      }
      await connection.resume(domain.name);
      log.info(`domain resumed: its VIFs are plugged (waited ${((Date.now() - began) / 1000).toFixed(1)} s)`, { ...context, domain: domain.name });
    } finally {
      waiter?.cancel();
    }
  }

  private async placeDrive(format: ConfigDriveFormat | null, metadata: InstanceMetadata, directory: string, context: SpawnLogContext): Promise<SpawnResult['drive']> {
    if (format === null) return 'none';
    const placed = await placeDrive(toDriveTree(metadata), join(directory, 'disk.config'), { format, mkisofsCmd: this.options.drive.mkisofsCmd, recordedAt: this.now() });
    this.deps.log.info(placed === 'created' ? 'config drive built' : 'config drive already there: kept', { ...context, format });
    return placed;
  }

  /** Nova's cleanup on a failed spawn: the domain goes, the instance directory stays for inspection. */
  private async undefineQuietly(context: SpawnLogContext): Promise<void> {
    try {
      const domain = await this.deps.connection.removeDomain(context.instance);
      if (domain !== null) this.deps.log.info('domain undefined after the failed spawn; instance directory kept', { ...context, domain });
    } catch (error) {
      this.deps.log.warning(`could not undefine the domain after the failed spawn: ${(error as Error).message}`, context);
    }
  }
}
