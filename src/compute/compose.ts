/**
 * The composition root for the spawn path: every option is read and checked here, once, so a bad one stops
 * the daemon (or the spawn command) at start with exit 78 and never surfaces at the first message.
 */
import { mkdir } from 'node:fs/promises';
import { controlPlaneConfigured } from '../config/control-plane.js';
import type { LoadedConfig } from '../config/load.js';
import { loadMetadataOptions } from '../metadata/load-options.js';
import { openMetadataRegistry, type MetadataRegistry } from '../metadata-api/registry.js';
import type { Logger } from '../log.js';
import { NO_METRICS, type Metrics } from '../metrics/metrics.js';
import { LibvirtConnection } from '../virt/connection.js';
import { connectionUri } from '../virt/connection-uri.js';
import { probeHost } from '../virt/host-facts.js';
import { ImageCache, LocalDiskPreparer, type DownloadListener } from '../virt/imagecache/index.js';
import { readVirtOptions } from '../virt/virt-options.js';
import { parentsOfCreated, syncPath } from '../durable-files.js';
import { ComputeManager, DEFAULT_RETRY, pipelineBuilder, type Builder, type Lifecycle, type NetworkEventHandler } from './compute-manager.js';
import type { InstanceDriver } from './driver.js';
import { InstanceEvents } from './instance-events.js';
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
  /** Where the pipeline waits for network-vif-plugged, which the compute manager delivers. */
  events: InstanceEvents;
  close(): Promise<void>;
}

/** Who watches the spawns: the daemon's metrics, the spawn command's progress bar. */
export interface SpawnerObservers {
  metrics?: Metrics;
  downloadListener?: DownloadListener;
}

export async function composeSpawner(loaded: LoadedConfig, log: Logger, observers: SpawnerObservers = {}): Promise<ComposedSpawner> {
  const metrics = observers.metrics ?? NO_METRICS;
  const { config } = loaded;
  const instancesPath = config.DEFAULT.instances_path;
  const created = await mkdir(instancesPath, { recursive: true, mode: 0o755 });
  for (const parent of parentsOfCreated(instancesPath, created)) await syncPath(parent);
  const virt = readVirtOptions(config, await probeHost(instancesPath));
  const metadata = loadMetadataOptions(config);
  const cache = new ImageCache({
    instancesPath,
    apiServers: config.glance.api_servers,
    log: log.child('imagecache'),
    metrics,
    ...(observers.downloadListener ? { downloadListener: observers.downloadListener } : {}),
  });
  const connection = new LibvirtConnection(connectionUri(config.libvirt));
  const registry = await openMetadataRegistry(instancesPath, log.child('metadata'));
  const events = new InstanceEvents();
  const pipeline = new SpawnPipeline(
    {
      virt,
      metadata,
      vifPlugging: { timeout: config.DEFAULT.vif_plugging_timeout, fatal: config.DEFAULT.vif_plugging_is_fatal },
      drive: {
        format: config.DEFAULT.config_drive_format,
        force_config_drive: config.DEFAULT.force_config_drive,
        mkisofsCmd: loaded.explicitlySet.has('DEFAULT.mkisofs_cmd') ? config.DEFAULT.mkisofs_cmd : null,
      },
    },
    {
      connection,
      disks: new LocalDiskPreparer(cache, { defaultEphemeralFormat: config.DEFAULT.default_ephemeral_format }, metrics),
      log: log.child('compute'),
      records: registry,
      // Only Neutron, through nova-api, sends network-vif-plugged: without a control plane nobody would.
      events: controlPlaneConfigured(config) ? events : null,
      metrics,
    },
  );
  const driver = new LibvirtDriver(
    { instancesPath, waitSoftRebootSeconds: config.libvirt.wait_soft_reboot_seconds },
    { connection, records: registry, log: log.child('driver') },
  );
  const powerOff = { shutdownTimeoutS: config.DEFAULT.shutdown_timeout, shutdownRetryIntervalS: config.compute.shutdown_retry_interval };
  return { pipeline, driver, powerOff, connection, registry, events, close: () => connection.close() };
}

/**
 * The compute manager, the one owner of this host's instances: builds and lifecycle operations through the
 * control plane's bookkeeping when there is one (`nova`), else the pipeline and the driver alone.
 */
export function composeComputeManager(
  loaded: LoadedConfig,
  spawner: Pick<ComposedSpawner, 'pipeline' | 'driver' | 'powerOff' | 'events'>,
  nova: { builder: Builder; lifecycle: Lifecycle; network?: NetworkEventHandler } | null,
  log: Logger,
  metrics: Metrics = NO_METRICS,
): ComputeManager {
  const driver: InstanceDriver = spawner.driver;
  return new ComputeManager(
    { maxConcurrentBuilds: loaded.config.DEFAULT.max_concurrent_builds, retry: DEFAULT_RETRY, memory: 10_000 },
    {
      builder: nova?.builder ?? pipelineBuilder(spawner.pipeline),
      lifecycle: nova?.lifecycle ?? new LocalLifecycle(driver, spawner.powerOff),
      driver,
      events: spawner.events,
      network: nova?.network ?? null,
      log: log.child('compute'),
      metrics,
    },
  );
}
