/**
 * Metadata API throughput and latency under wrk (Debian's package): requests/s and p99 for the document
 * cloud-init reads first, behind the Neutron proxy (signed headers, an HMAC per request) and by requester
 * address, plus an EC2 listing built per request. The server runs in this process, wrk in another, so on
 * a 2-core machine each has a core. The ceiling, measured in the same run: node:http answering every
 * request with the same meta_data.json bytes, no routing, lookup or signature (what Node and wrk allow on
 * the machine).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { getLogger } from '../src/log.js';
import { MetadataRegistry } from '../src/metadata-api/registry.js';
import { startMetadataServer } from '../src/metadata-api/server.js';
import { apiConfig, proxyHeaders, served } from '../test/metadata-api/fixtures.js';

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx answers and socket errors: a run with any measured the wrong thing. */
  failures: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000 };

function milliseconds(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!match) throw new Error(`wrk latency ${JSON.stringify(text)} not understood`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** wrk --latency's summary. */
export function parseWrk(output: string): WrkResult {
  const number = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? 'NaN');
  const percentile = (p: number): number => milliseconds(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output)?.[1] ?? '?');
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    requests: number(/(\d+) requests in/),
    failures: (number(/Non-2xx or 3xx responses: (\d+)/) || 0) + (errors ? errors.slice(1).reduce((n, v) => n + Number(v), 0) : 0),
  };
}

function runWrk(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]), url];
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the server under test runs on this process's event loop.
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => reject(new Error(`wrk could not run (apt-get install -y wrk): ${error.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(parseWrk(stdout)) : reject(new Error(`wrk exited ${code}: ${stderr}`))));
  });
}

interface BenchServer {
  port: number;
  close(): Promise<void>;
}

function fixedAnswerServer(body: Buffer): Promise<BenchServer> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    response.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((closed) => server.close(() => closed()).closeAllConnections()),
      }),
    );
  });
}

export async function benchMetadataApi(quick: boolean): Promise<string> {
  const instance = served();
  // The requester-address case asks from 127.0.0.1: make that one of the instance's fixed IPs.
  const registry = new MetadataRegistry(async () => undefined);
  registry.register({ ...instance.record, fixed_ips: [...instance.record.fixed_ips, '127.0.0.1'] });
  const headers = proxyHeaders(instance.record.uuid, instance.record.project_id);
  const seconds = quick ? 3 : 10;
  const connections = 64;
  const log = getLogger('nova_spawnd.bench');
  const rows: string[] = [];
  const ours = (proxy: boolean) => () => startMetadataServer({ config: apiConfig({ proxy }), registry, log });
  const metaData = await ours(false)().then(async (server) => {
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/openstack/latest/meta_data.json`);
      if (!response.ok) throw new Error(`meta_data.json: HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    } finally {
      await server.close();
    }
  });
  const cases: { name: string; proxy: boolean; path: string; start: () => Promise<BenchServer> }[] = [
    { name: 'ceiling: node:http answering the same meta_data.json bytes to every request', proxy: false, path: '/', start: () => fixedAnswerServer(metaData) },
    { name: 'openstack/latest/meta_data.json, Neutron proxy headers (HMAC checked)', proxy: true, path: '/openstack/latest/meta_data.json', start: ours(true) },
    { name: 'openstack/latest/meta_data.json, by requester address', proxy: false, path: '/openstack/latest/meta_data.json', start: ours(false) },
    { name: 'latest/meta-data/ (EC2 listing), Neutron proxy headers', proxy: true, path: '/latest/meta-data/', start: ours(true) },
  ];
  for (const benchCase of cases) {
    const server = await benchCase.start();
    try {
      const url = `http://127.0.0.1:${server.port}${benchCase.path}`;
      await runWrk(url, benchCase.proxy ? headers : {}, connections, 1);
      const result = await runWrk(url, benchCase.proxy ? headers : {}, connections, seconds);
      if (result.failures > 0 || !(result.requests > 0)) throw new Error(`${benchCase.name}: ${result.failures} failed requests of ${result.requests}`);
      rows.push(`| ${benchCase.name} | ${connections} | ${seconds} | ${result.requests} | ${result.requestsPerSecond.toFixed(0)} | ${result.p50Ms.toFixed(2)} | ${result.p99Ms.toFixed(2)} |`);
    } finally {
      await server.close();
    }
  }
  return [
    `### Metadata API (wrk -t1, keep-alive; ${os.cpus().length} cores shared by server and wrk; target >= 10000 req/s)`,
    '',
    '| what | connections | seconds | requests | requests/s | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
