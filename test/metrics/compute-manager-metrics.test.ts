/** What the compute manager records (a pure unit test: a stand-in builder the test finishes by hand). */
import { ComputeManager, type Builder, type Lifecycle } from '../../src/compute/compute-manager.js';
import type { InstanceDriver } from '../../src/compute/driver.js';
import { OperationFailed } from '../../src/compute/operation-failed.js';
import type { SpawnResult } from '../../src/compute/spawn-result.js';
import { getLogger } from '../../src/log.js';
import { PrometheusMetrics } from '../../src/metrics/prometheus.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { FULL } from '../nova/nova-scenarios.js';

const A = '0a0a0a0a-0000-4000-8000-00000000000a';
const B = '0b0b0b0b-0000-4000-8000-00000000000b';

function request(uuid: string): SpawnRequest {
  return { ...FULL, instance: { ...FULL.instance, uuid } };
}

function value(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

test('a build is in flight while it runs; each attempt is timed with its outcome; every operation counted', async () => {
  const metrics = new PrometheusMetrics({ version: '0', controlPlane: false });
  const finish = new Map<string, (error?: Error) => void>();
  const builder: Builder = {
    build: (req) =>
      new Promise<SpawnResult>((resolve, reject) =>
        finish.set(req.instance.uuid, (error) => (error ? reject(error) : resolve({ uuid: req.instance.uuid, domain: 'd', outcome: 'spawned', drive: 'none' }))),
      ),
  };
  const lifecycle: Lifecycle = { terminate: async () => undefined, stop: async () => undefined, start: async () => undefined, reboot: async () => undefined };
  const driver: Pick<InstanceDriver, 'consoleOutput'> = { consoleOutput: async () => Buffer.from('') };
  const manager = new ComputeManager(
    { maxConcurrentBuilds: 10, retry: { maxAttempts: 2, backoff: { initialMs: 10, maxMs: 10, jitter: 0 } }, memory: 100 },
    { builder, lifecycle, driver, log: getLogger('test.metrics'), metrics },
  );
  const first = manager.perform({ kind: 'build', request: request(A), cast: null }, 1);
  const second = manager.perform({ kind: 'build', request: request(B), cast: null }, 1);
  await new Promise((resolve) => setImmediate(resolve));
  expect(value((await metrics.exposition()).body, 'nova_spawnd_builds_in_flight')).toBe(2);
  finish.get(A)!();
  finish.get(B)!(new OperationFailed(B, 'define', true, 'libvirtd restarting'));
  expect((await first).kind).toBe('done');
  expect((await second).kind).toBe('retry');
  await manager.perform({ kind: 'terminate', target: { uuid: A, instance: {}, context: {} } }, 1);

  const text = (await metrics.exposition()).body;
  expect(value(text, 'nova_spawnd_builds_in_flight')).toBe(0);
  expect(value(text, 'nova_spawnd_build_duration_seconds_count{outcome="done"}')).toBe(1);
  expect(value(text, 'nova_spawnd_build_duration_seconds_count{outcome="retry"}')).toBe(1);
  expect(value(text, 'nova_spawnd_operations_total{kind="build",outcome="done"}')).toBe(1);
  expect(value(text, 'nova_spawnd_operations_total{kind="build",outcome="retry"}')).toBe(1);
  expect(value(text, 'nova_spawnd_operations_total{kind="terminate",outcome="done"}')).toBe(1);
});
