/**
 * The operator's listener ([nova_spawnd] metrics_listen:metrics_listen_port): GET /metrics in Prometheus's
 * text format, GET /healthz as JSON (200 when every component answers, 503 naming those that do not).
 */
import http, { type ServerResponse } from 'node:http';
import type { NovaConfig } from '../config/schema.js';
import { listen, type HttpListener } from '../http-listener.js';
import type { Logger } from '../log.js';
import { Health, type HealthProbe } from './health.js';
import type { PrometheusMetrics } from './prometheus.js';

export interface MetricsServerOptions {
  listen: string;
  port: number;
  metrics: Pick<PrometheusMetrics, 'exposition'>;
  health: Pick<Health, 'report'>;
  log: Logger;
}

export type MetricsServer = HttpListener;

/** [nova_spawnd] metrics_enabled. */
export function metricsEnabled(config: Pick<NovaConfig, 'nova_spawnd'>): boolean {
  return config.nova_spawnd.metrics_enabled;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

async function answer(path: string, method: string, res: ServerResponse, options: MetricsServerOptions): Promise<void> {
  const head = method === 'HEAD';
  if (path !== '/metrics' && path !== '/healthz') return send(res, 404, 'text/plain; charset=utf-8', 'Not found: /metrics and /healthz are served here.\n', head);
  if (method !== 'GET' && !head) {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', `Method ${method} not allowed.\n`, false);
  }
  if (path === '/metrics') {
    const { contentType, body } = await options.metrics.exposition();
    return send(res, 200, contentType, body, head);
  }
  const report = await options.health.report();
  send(res, report.healthy ? 200 : 503, 'application/json', `${JSON.stringify({ status: report.healthy ? 'ok' : 'failing', checks: report.checks })}\n`, head);
}

/** Listens; rejects when the address cannot be bound (in use, not an address of this host). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { log } = options;
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    answer(path, req.method ?? 'GET', res, options).catch((error: unknown) => {
      log.error(`metrics request failed: ${error instanceof Error ? error.message : String(error)}`, { path });
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error.\n', false);
      else res.destroy();
    });
  });
  return listen(server, options.port, options.listen, log, 'metrics');
}

/**
 * The daemon's listener on [nova_spawnd] metrics_listen:metrics_listen_port; null when that cannot be bound
 * (logged as an error naming it): monitoring that cannot start never stops the builds.
 */
export async function serveMetrics(
  config: Pick<NovaConfig, 'nova_spawnd'>,
  metrics: Pick<PrometheusMetrics, 'exposition'>,
  probes: Readonly<Record<string, HealthProbe>>,
  log: Logger,
): Promise<MetricsServer | null> {
  const { metrics_listen: listen, metrics_listen_port: port } = config.nova_spawnd;
  try {
    const server = await startMetricsServer({ listen, port, metrics, health: new Health(probes), log });
    log.info('metrics and health listening', { address: server.address, port: server.port });
    return server;
  } catch (error) {
    log.error(`cannot serve metrics on [nova_spawnd] metrics_listen ${listen} metrics_listen_port ${port}: ${(error as Error).message}; running without`);
    return null;
  }
}
