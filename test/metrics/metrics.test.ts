/**
 * The metrics module on its own: what PrometheusMetrics exposes for what is recorded, the health report's
 * timeouts and cache, and the listener that serves both.
 */
import { PrometheusMetrics } from '../../src/metrics/prometheus.js';
import { Health } from '../../src/metrics/health.js';
import { timed } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { getLogger } from '../../src/log.js';

/** The value of the sample `name{labels}` in an exposition, undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function exposed(metrics: PrometheusMetrics): Promise<string> {
  return (await metrics.exposition()).body;
}

describe('PrometheusMetrics', () => {
  test('operations count by kind and outcome; a build is in flight from its start to its end, then observed with its outcome', async () => {
    const metrics = new PrometheusMetrics({ version: '1.2.3', controlPlane: false });
    metrics.operation('build', 'done');
    metrics.operation('build', 'done');
    metrics.operation('stop', 'failed');
    const first = metrics.buildStarted();
    const second = metrics.buildStarted();
    expect(sample(await exposed(metrics), 'nova_spawnd_builds_in_flight')).toBe(2);
    first('done');
    first('done'); // a second call changes nothing
    second('retry');
    const text = await exposed(metrics);
    expect(sample(text, 'nova_spawnd_operations_total', 'kind="build",outcome="done"')).toBe(2);
    expect(sample(text, 'nova_spawnd_operations_total', 'kind="stop",outcome="failed"')).toBe(1);
    expect(sample(text, 'nova_spawnd_builds_in_flight')).toBe(0);
    expect(sample(text, 'nova_spawnd_build_duration_seconds_count', 'outcome="done"')).toBe(1);
    expect(sample(text, 'nova_spawnd_build_duration_seconds_count', 'outcome="retry"')).toBe(1);
    expect(sample(text, 'nova_spawnd_build_info', 'version="1.2.3"')).toBe(1);
    // prom-client's process collectors, in our registry.
    expect(text).toContain('process_resident_memory_bytes');
  });

  test('steps, dead letters, broker connections, the image cache and metadata requests', async () => {
    const metrics = new PrometheusMetrics({ version: '0', controlPlane: false });
    await timed(metrics, 'define', async () => undefined);
    await expect(timed(metrics, 'start', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    metrics.step('image', 0.2);
    metrics.deadLetter('invalid-request');
    const rpc = metrics.broker('rpc');
    metrics.broker('notifications');
    rpc.connected(true);
    rpc.connected(false);
    rpc.connected(true);
    rpc.reconnected();
    metrics.imageCache('hit');
    metrics.imageCache('miss');
    metrics.imageCache('miss');
    metrics.imageBytesDownloaded(1000);
    metrics.imageBytesDownloaded(24);
    metrics.metadataRequest(200);
    metrics.metadataRequest(404);
    metrics.metadataRequest(200);
    const text = await exposed(metrics);
    expect(sample(text, 'nova_spawnd_build_step_duration_seconds_count', 'step="define"')).toBe(1);
    expect(sample(text, 'nova_spawnd_build_step_duration_seconds_count', 'step="start"')).toBe(1);
    expect(sample(text, 'nova_spawnd_build_step_duration_seconds_sum', 'step="image"')).toBeCloseTo(0.2);
    expect(sample(text, 'nova_spawnd_dead_letters_total', 'reason="invalid-request"')).toBe(1);
    expect(sample(text, 'nova_spawnd_broker_connected', 'connection="rpc"')).toBe(1);
    expect(sample(text, 'nova_spawnd_broker_connected', 'connection="notifications"')).toBe(0);
    expect(sample(text, 'nova_spawnd_broker_reconnects_total', 'connection="rpc"')).toBe(1);
    expect(sample(text, 'nova_spawnd_broker_reconnects_total', 'connection="notifications"')).toBe(0);
    expect(sample(text, 'nova_spawnd_image_cache_hits_total')).toBe(1);
    expect(sample(text, 'nova_spawnd_image_cache_misses_total')).toBe(2);
    expect(sample(text, 'nova_spawnd_image_download_bytes_total')).toBe(1024);
    expect(sample(text, 'nova_spawnd_metadata_requests_total', 'code="200"')).toBe(2);
    expect(sample(text, 'nova_spawnd_metadata_requests_total', 'code="404"')).toBe(1);
  });

  test('the conductor and the heartbeat age exist only with a control plane; the age counts from the last answer', async () => {
    expect(await exposed(new PrometheusMetrics({ version: '0', controlPlane: false }))).not.toMatch(/conductor_up|heartbeat_age/);
    let now = 1_000_000;
    const metrics = new PrometheusMetrics({ version: '0', controlPlane: true, nowMs: () => now });
    now += 7_000;
    let text = await exposed(metrics);
    expect(sample(text, 'nova_spawnd_conductor_up')).toBe(0);
    expect(sample(text, 'nova_spawnd_heartbeat_age_seconds')).toBe(7);
    metrics.conductorAnswered(true);
    now += 2_500;
    text = await exposed(metrics);
    expect(sample(text, 'nova_spawnd_conductor_up')).toBe(1);
    expect(sample(text, 'nova_spawnd_heartbeat_age_seconds')).toBe(2.5);
    metrics.conductorAnswered(false);
    now += 10_000;
    text = await exposed(metrics);
    expect(sample(text, 'nova_spawnd_conductor_up')).toBe(0);
    expect(sample(text, 'nova_spawnd_heartbeat_age_seconds')).toBe(12.5);
  });

  test('two instances keep separate registries (nothing global)', async () => {
    const one = new PrometheusMetrics({ version: '0', controlPlane: false });
    const two = new PrometheusMetrics({ version: '0', controlPlane: false });
    one.deadLetter('spawn-failed');
    expect(sample(await exposed(one), 'nova_spawnd_dead_letters_total', 'reason="spawn-failed"')).toBe(1);
    expect(sample(await exposed(two), 'nova_spawnd_dead_letters_total', 'reason="spawn-failed"')).toBeUndefined();
  });

});

describe('Health', () => {
  test('healthy when every probe answers; a failing one is named with its reason', async () => {
    const health = new Health({ broker: async () => Promise.reject(new Error('not connected to the rpc broker')), libvirt: async () => undefined });
    expect(await health.report()).toEqual({ healthy: false, checks: { broker: { ok: false, error: 'not connected to the rpc broker' }, libvirt: { ok: true } } });
    expect((await new Health({ libvirt: async () => undefined }).report()).healthy).toBe(true);
  });

  test('a probe that throws synchronously, or hangs, fails; the report does not wait past the timeout', async () => {
    const health = new Health({ hangs: () => new Promise<void>(() => undefined), throws: () => { throw new Error('boom'); } }, { timeoutMs: 50 });
    expect(await health.report()).toEqual({ healthy: false, checks: { hangs: { ok: false, error: 'no answer within 50 ms' }, throws: { ok: false, error: 'boom' } } });
  });

  test('a report is reused for cacheMs, and concurrent requests share one round of probes', async () => {
    let now = 0;
    let calls = 0;
    const health = new Health({ libvirt: async () => void calls++ }, { cacheMs: 1500, nowMs: () => now });
    await Promise.all([health.report(), health.report(), health.report()]);
    expect(calls).toBe(1);
    now = 1499;
    await health.report();
    expect(calls).toBe(1);
    now = 1500;
    await health.report();
    expect(calls).toBe(2);
  });
});

describe('the metrics listener', () => {
  test('serves /metrics in the text format, /healthz as JSON with 200 or 503, nothing else', async () => {
    const metrics = new PrometheusMetrics({ version: '0', controlPlane: false });
    metrics.operation('build', 'done');
    let brokerUp = true;
    const health = new Health({ broker: async () => { if (!brokerUp) throw new Error('not connected to the rpc broker'); } }, { cacheMs: 0 });
    const server = await startMetricsServer({ listen: '127.0.0.1', port: 0, metrics, health, log: getLogger('test.metrics') });
    const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
    try {
      const scraped = await fetch(url('/metrics'));
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(sample(await scraped.text(), 'nova_spawnd_operations_total', 'kind="build",outcome="done"')).toBe(1);

      const healthy = await fetch(url('/healthz'));
      expect(healthy.status).toBe(200);
      expect(await healthy.json()).toEqual({ status: 'ok', checks: { broker: { ok: true } } });
      brokerUp = false;
      const failing = await fetch(url('/healthz'));
      expect(failing.status).toBe(503);
      expect(await failing.json()).toEqual({ status: 'failing', checks: { broker: { ok: false, error: 'not connected to the rpc broker' } } });

      expect((await fetch(url('/'))).status).toBe(404);
      const post = await fetch(url('/metrics'), { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
    } finally {
      await server.close();
    }
  });

  test('an address in use is refused at start', async () => {
    const metrics = new PrometheusMetrics({ version: '0', controlPlane: false });
    const health = new Health({});
    const first = await startMetricsServer({ listen: '127.0.0.1', port: 0, metrics, health, log: getLogger('test.metrics') });
    try {
      await expect(startMetricsServer({ listen: '127.0.0.1', port: first.port, metrics, health, log: getLogger('test.metrics') })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
