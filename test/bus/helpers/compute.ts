/**
 * The real spawn pipeline for the bus tests: SpawnPipeline with the real image cache and local disks
 * (qemu-img overlays over a small qcow2 image seeded in `_base`), on libvirt `uri`.
 */
import type { InstanceEvents } from '../../../src/compute/instance-events.js';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ComputeManager, DEFAULT_RETRY, pipelineBuilder, type ComputeManagerOptions } from '../../../src/compute/compute-manager.js';
import { LibvirtDriver } from '../../../src/compute/libvirt-driver.js';
import { LocalLifecycle } from '../../../src/compute/local-lifecycle.js';
import { SpawnPipeline } from '../../../src/compute/spawn-pipeline.js';
import type { InstanceDriver } from '../../../src/compute/driver.js';
import type { Spawner } from '../../../src/compute/spawner.js';
import { getLogger } from '../../../src/log.js';
import { openMetadataRegistry } from '../../../src/metadata-api/registry.js';
import { LibvirtConnection } from '../../../src/virt/connection.js';
import { ImageCache, LocalDiskPreparer } from '../../../src/virt/imagecache/index.js';
import { seedImage } from '../../compute/seed-image.js';
import { testOptions } from '../../metadata/fixtures.js';
import { virtOptions } from '../../virt/fixtures.js';

/** The image every test spawn boots: cached, so no Glance is needed. */
export const CACHED_IMAGE_ID = '1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d';
/** An image that is neither in the cache nor downloadable ([glance] api_servers is empty). */
export const MISSING_IMAGE_ID = 'deadbeef-0000-4000-8000-00000000dead';

export interface TestCompute {
  spawner: SpawnPipeline;
  /** The driver of everything after the spawn, on the same libvirt and instances. */
  driver: LibvirtDriver;
  connection: LibvirtConnection;
  instancesPath: string;
  close(): Promise<void>;
}

/** An instances_path with the cached image, for the daemon in this process or in a child. */
export function prepareInstancesPath(): { root: string; instancesPath: string } {
  const root = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-bus-'));
  // qemu runs as libvirt-qemu: on qemu:///system it must reach the disks under here.
  chmodSync(root, 0o755);
  const instancesPath = join(root, 'instances');
  seedImage(instancesPath, CACHED_IMAGE_ID);
  return { root, instancesPath };
}

export async function testCompute(uri = 'test:///default'): Promise<TestCompute> {
  const { root, instancesPath } = prepareInstancesPath();
  const connection = new LibvirtConnection(uri);
  const cache = new ImageCache({ instancesPath, apiServers: [] });
  const records = await openMetadataRegistry(instancesPath, getLogger('test.metadata'));
  const spawner = new SpawnPipeline(
    { virt: virtOptions({ instances_path: instancesPath, virt_type: 'qemu' }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
    { connection, disks: new LocalDiskPreparer(cache, { defaultEphemeralFormat: null }), log: getLogger('test.compute'), records },
  );
  const driver = new LibvirtDriver({ instancesPath, waitSoftRebootSeconds: 120 }, { connection, records, log: getLogger('test.driver') });
  return {
    spawner,
    driver,
    connection,
    instancesPath,
    close: async () => {
      await connection.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The compute manager of a standalone daemon: builds with `spawner`, everything else with `driver`; Nova's
 * defaults unless `options` say.
 */
export function standaloneCompute(spawner: Spawner, driver: InstanceDriver, options: Partial<ComputeManagerOptions> = {}, events?: InstanceEvents): ComputeManager {
  return new ComputeManager(
    { maxConcurrentBuilds: 10, retry: DEFAULT_RETRY, memory: 10_000, ...options },
    {
      builder: pipelineBuilder(spawner),
      lifecycle: new LocalLifecycle(driver, { shutdownTimeoutS: 60, shutdownRetryIntervalS: 10 }),
      driver,
      log: getLogger('test.compute'),
      ...(events ? { events } : {}),
    },
  );
}
