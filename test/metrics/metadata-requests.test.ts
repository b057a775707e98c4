/** The metadata API counts what it answered, by status, into the daemon's metrics. */
import { startMetadataServer } from '../../src/metadata-api/server.js';
import { PrometheusMetrics } from '../../src/metrics/prometheus.js';
import { apiConfig, memoryLogger, memoryRegistry } from '../metadata-api/fixtures.js';

test('every answer is counted once with its status code', async () => {
  const metrics = new PrometheusMetrics({ version: '0', controlPlane: false });
  const server = await startMetadataServer({ config: apiConfig(), registry: memoryRegistry(), log: memoryLogger().log, metrics });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(200);
    // The fixture's config expects Neutron's proxy: a request without X-Instance-ID is Nova's 400.
    expect((await fetch(`${base}/openstack/latest/meta_data.json`)).status).toBe(400);
  } finally {
    await server.close();
  }
  const text = (await metrics.exposition()).body;
  expect(text).toContain('nova_spawnd_metadata_requests_total{code="200"} 2');
  expect(text).toContain('nova_spawnd_metadata_requests_total{code="400"} 1');
});
