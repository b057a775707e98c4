/**
 * /healthz with the daemon's own probes, and what the bus records, on real components: a SpawnDaemon on the
 * shared RabbitMQ (a vhost of its own) or on a port where no broker listens, and libvirt's test:///default.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SpawnDaemon } from '../../src/bus/spawn-daemon.js';
import { getLogger } from '../../src/log.js';
import { daemonProbes, Health } from '../../src/metrics/health.js';
import { PrometheusMetrics } from '../../src/metrics/prometheus.js';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';
import { LibvirtConnection } from '../../src/virt/connection.js';
import { busOptions, daemonSections } from '../bus/helpers/config.js';
import { standaloneCompute, testCompute, type TestCompute } from '../bus/helpers/compute.js';
import { connectClient, createVhost, eventually, type TestVhost } from '../bus/helpers/rabbit.js';
import { closedPort } from '../helpers/closed-port.js';

let compute: TestCompute;
let vhost: TestVhost;
const log = getLogger('test.health');

beforeAll(async () => {
  [compute, vhost] = await Promise.all([testCompute(), createVhost('health')]);
});

afterAll(async () => {
  await compute?.close();
  await vhost?.remove();
});

/** A daemon on `transportUrl` with its metrics listener; `use` gets the /healthz URL. */
async function withDaemon(transportUrl: string, libvirt: LibvirtConnection, use: (healthz: string, daemon: SpawnDaemon, metrics: PrometheusMetrics) => Promise<void>): Promise<void> {
  const metrics = new PrometheusMetrics({ version: '0', controlPlane: false });
  const daemon = new SpawnDaemon(
    { bus: busOptions(daemonSections('compute-health', transportUrl)), reconnect: { initialMs: 100, maxMs: 500, jitter: 0.2 }, connectTimeoutMs: 1000 },
    { compute: standaloneCompute(compute.spawner, compute.driver), log, metrics },
  );
  let server: MetricsServer | null = null;
  try {
    daemon.start();
    server = await startMetricsServer({ listen: '127.0.0.1', port: 0, metrics, health: new Health(daemonProbes({ bus: daemon, libvirt, conductor: null }), { cacheMs: 0 }), log });
    await use(`http://127.0.0.1:${server.port}/healthz`, daemon, metrics);
  } finally {
    await server?.close();
    await daemon.stop(1000);
  }
}

test('broker and libvirt answering: 200', async () => {
  await withDaemon(vhost.url, compute.connection, async (healthz, daemon) => {
    await daemon.ready();
    const response = await fetch(healthz);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { broker: { ok: true }, libvirt: { ok: true } } });
  });
});

test('no broker: 503 naming the broker; libvirt still answers', async () => {
  const nowhere = `rabbit://guest:guest@127.0.0.1:${await closedPort()}/`;
  await withDaemon(nowhere, compute.connection, async (healthz) => {
    const response = await fetch(healthz);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'failing', checks: { broker: { ok: false, error: 'not connected to the rpc broker' }, libvirt: { ok: true } } });
  });
});

test('libvirt unreachable: 503 naming libvirt with its error', async () => {
  const unreachable = new LibvirtConnection('qemu+unix:///system?socket=/nonexistent/libvirt-sock');
  try {
    await withDaemon(vhost.url, unreachable, async (healthz, daemon) => {
      await daemon.ready();
      const response = await fetch(healthz);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
      expect(body.checks['broker']).toEqual({ ok: true });
      expect(body.checks['libvirt']).toEqual({ ok: false, error: expect.stringMatching(/^libvirt connectOpen on .* failed: Failed to connect socket to '\/nonexistent\/libvirt-sock'/) });
    });
  } finally {
    await unreachable.close();
  }
});

test('connected, the rpc connection is 1; a malformed message is counted as a dead letter once the broker has it', async () => {
  await withDaemon(vhost.url, compute.connection, async (_healthz, daemon, metrics) => {
    await daemon.ready();
    const client = await connectClient(vhost.url);
    try {
      const channel = await client.createConfirmChannel();
      channel.publish('nova', 'compute.compute-health', Buffer.from('{not json'), { contentType: 'application/json' });
      await channel.waitForConfirms();
    } finally {
      await client.close();
    }
    const text = await eventually('the dead letter counted', async () => {
      const body = (await metrics.exposition()).body;
      return body.includes('nova_spawnd_dead_letters_total{reason="malformed-message"} 1') ? body : undefined;
    });
    expect(text).toContain('nova_spawnd_broker_connected{connection="rpc"} 1');
    expect(text).toContain('nova_spawnd_broker_reconnects_total{connection="rpc"} 0');
  });
});

test('the broker closing the connection: counted as lost, then as a reconnect', async () => {
  await withDaemon(vhost.url, compute.connection, async (healthz, daemon, metrics) => {
    await daemon.ready();
    const sample = async (series: string) => (await metrics.exposition()).body.split('\n').find((line) => line.startsWith(`${series} `))?.split(' ')[1];
    await promisify(execFile)('rabbitmqctl', ['close_all_connections', '--vhost', vhost.name, 'nova-spawnd metrics test'], { timeout: 30_000 });
    await eventually('the reconnect counted', async () => ((await sample('nova_spawnd_broker_reconnects_total{connection="rpc"}')) === '1' ? true : undefined));
    expect(await sample('nova_spawnd_broker_connected{connection="rpc"}')).toBe('1');
    expect((await fetch(healthz)).status).toBe(200);
  });
});
