/**
 * The composition root for the spawn path: every option is read and checked here, once, so a bad one stops
 * the daemon (or the spawn command) at start with exit 78 and never surfaces at the first message.
 */
import { mkdir } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import { loadMetadataOptions } from '../metadata/load-options.js';
import { openMetadataRegistry, type MetadataRegistry } from '../metadata-api/registry.js';
import type { Logger } from '../log.js';
import { LibvirtConnection } from '../virt/connection.js';
import { connectionUri } from '../virt/connection-uri.js';
import { probeHost } from '../virt/host-facts.js';
import { ImageCache, LocalDiskPreparer } from '../virt/imagecache/index.js';
import { readVirtOptions } from '../virt/virt-options.js';
import { parentsOfCreated, syncPath } from '../durable-files.js';
import { ComputeManager, DEFAULT_RETRY, pipelineBuilder, type Builder, type Lifecycle } from './compute-manager.js';
import type { InstanceDriver } from './driver.js';
import { LibvirtDriver } from './libvirt-driver.js';
import { LocalLifecycle, type PowerOffTimes } from './local-lifecycle.js';
import { SpawnPipeline } from './spawn-pipeline.js';

export interface ComposedSpawner {
  pipeline: SpawnPipeline;
  /** Everything after the spawn, on the same libvirt connection and instances_path. */
  driver: LibvirtDriver;
  /** [DEFAULT] shutdown_timeout and [compute] shutdown_retry_interval, for every stop. */
  powerOff: PowerOffTimes;
  connection: LibvirtConnection;
  /** Every instance's metadata record under instances_path, the spawn pipeline's included: what the metadata API serves. */
  registry: MetadataRegistry;
  close(): Promise<void>;
}

export async function composeSpawner(loaded: LoadedConfig, log: Logger): Promise<ComposedSpawner> {
  const { config } = loaded;
  const instancesPath = config.DEFAULT.instances_path;
  const created = await mkdir(instancesPath, { recursive: true, mode: 0o755 });
  for (const parent of parentsOfCreated(instancesPath, created)) await syncPath(parent);
  const virt = readVirtOptions(config, await probeHost(instancesPath));
  const metadata = loadMetadataOptions(config);
  const cache = new ImageCache({ instancesPath, apiServers: config.glance.api_servers, log: log.child('imagecache') });
  const connection = new LibvirtConnection(connectionUri(config.libvirt));
  const registry = await openMetadataRegistry(instancesPath, log.child('metadata'));
  const pipeline = new SpawnPipeline(
    {
      virt,
      metadata,
      drive: {
        format: config.DEFAULT.config_drive_format,
        force_config_drive: config.DEFAULT.force_config_drive,
        mkisofsCmd: loaded.explicitlySet.has('DEFAULT.mkisofs_cmd') ? config.DEFAULT.mkisofs_cmd : null,
      },
    },
    {
      connection,
      disks: new LocalDiskPreparer(cache, { defaultEphemeralFormat: config.DEFAULT.default_ephemeral_format }),
      log: log.child('compute'),
      records: registry,
    },
  );
  const driver = new LibvirtDriver(
    { instancesPath, waitSoftRebootSeconds: config.libvirt.wait_soft_reboot_seconds },
    { connection, records: registry, log: log.child('driver') },
  );
  const powerOff = { shutdownTimeoutS: config.DEFAULT.shutdown_timeout, shutdownRetryIntervalS: config.compute.shutdown_retry_interval };
  return { pipeline, driver, powerOff, connection, registry, close: () => connection.close() };
}

/**
 * The compute manager, the one owner of this host's instances: builds and lifecycle operations through the
 * control plane's bookkeeping when there is one (`nova`), else the pipeline and the driver alone.
 */
export function composeComputeManager(
  loaded: LoadedConfig,
  spawner: Pick<ComposedSpawner, 'pipeline' | 'driver' | 'powerOff'>,
  nova: { builder: Builder; lifecycle: Lifecycle } | null,
  log: Logger,
): ComputeManager {
  const driver: InstanceDriver = spawner.driver;
  return new ComputeManager(
    { maxConcurrentBuilds: loaded.config.DEFAULT.max_concurrent_builds, retry: DEFAULT_RETRY, memory: 10_000 },
    {
      builder: nova?.builder ?? pipelineBuilder(spawner.pipeline),
      lifecycle: nova?.lifecycle ?? new LocalLifecycle(driver, spawner.powerOff),
      driver,
      log: log.child('compute'),
    },
  );
}
