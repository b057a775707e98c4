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
import type { Logger } from '../log.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { DirectorySyncGroup, parentsOfCreated, replaceFile, syncPath } from '../durable-files.js';
import type { LibvirtConnection } from '../virt/connection.js';
import { instanceDir } from '../virt/instance-paths.js';
import type { DiskPreparer } from './disk-preparer.js';
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
  now?: () => Date;
}

/** What every log line of a spawn names. */
type SpawnLogContext = { instance: string; request_id: string | undefined };

/** What a dry run shows: the domain and the drive a spawn would make, with nothing created. */
export interface SpawnPlan {
  xml: string;
  drive: ReturnType<typeof toDriveTree> | null;
}

export class SpawnPipeline implements Spawner {
  /** instances_path gets an entry per spawn: concurrent spawns share its syncs. */
  private readonly parentSyncs = new DirectorySyncGroup();
  private readonly now: () => Date;

  constructor(
    private readonly options: SpawnPipelineOptions,
    private readonly deps: SpawnPipelineDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
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
    const context: SpawnLogContext = { instance: uuid, request_id: request.context.request_id ?? undefined };
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
        : this.deps.connection.define(xml).then((identity) => {
            defined = identity.name;
            log.info('domain defined', { ...context, domain: identity.name });
            return identity;
          }, asStep('define'));
      const placing = this.placeDrive(configDrive, metadata, directory, context).catch(asStep('drive'));
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
      await this.deps.connection.start(domain);
      log.info('domain started', { ...context, domain: domain.name });
      return { uuid, domain: domain.name, outcome: existing ? 'resumed' : 'spawned', drive };
    } catch (error) {
      const failure = asOperationFailed(uuid, step, error);
      log.error(failure.message, { ...context, transient: failure.transient });
      if (defined) await this.undefineQuietly(context);
      throw failure;
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
