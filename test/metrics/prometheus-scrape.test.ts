/**
 * A real Prometheus (Debian's, with a configuration and storage of this test's own) scrapes a real
 * `nova-spawnd run` every second while it spawns instances from plain requests through the broker, on
 * libvirt's test:///default; what it stored is read back through its HTTP API. The builds download their
 * image from a stand-in Glance that holds the image's last bytes back until the test lets them go, so the
 * builds are surely in flight across several scrapes, however fast this machine is.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { daemonSections, writeConfig } from '../bus/helpers/config.js';
import { prepareInstancesPath } from '../bus/helpers/compute.js';
import { DaemonProcess } from '../bus/helpers/daemon-process.js';
import { JSON_PROPERTIES, newInstance, plainBody } from '../bus/helpers/messages.js';
import { connectClient, createVhost, eventually, type TestVhost } from '../bus/helpers/rabbit.js';
import { closedPort } from '../helpers/closed-port.js';
import { FakeGlance } from '../virt/imagecache/fake-glance.js';

const HOST = `compute-metrics-${process.pid}`;
const IMAGE_ID = '7d0c4a52-3c43-4f0e-9b1a-5c2e7f6a9b10';
const BUILDS = 3;
/** The image's first bytes go out at once, the rest once the test releases them. */
const HELD_AFTER = 64 * 1024;

let vhost: TestVhost;
let glance: FakeGlance;
let root: string;
let daemon: DaemonProcess | null = null;
let prometheus: ChildProcess | null = null;
let prometheusUrl: string;
let metricsUrl: string;
let prometheusLog = '';
let prometheusDir: string | null = null;

/** A small qcow2 image, as Glance would serve it. */
function qcow2Image(dir: string): Buffer {
  const path = join(dir, 'image.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path, '1M']);
  return readFileSync(path);
}

async function startPrometheus(dir: string, target: string): Promise<string> {
  const port = await closedPort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: nova-spawnd',
      '    scrape_timeout: 1s',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
  prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await eventually('Prometheus ready', async () => {
    if (prometheus!.exitCode !== null) throw new Error(`prometheus exited:\n${prometheusLog}`);
    return (await fetch(`${url}/-/ready`).catch(() => null))?.ok ? true : undefined;
  });
  return url;
}

/** The value of an instant query that returns one series, undefined while it returns none. */
async function query(expression: string): Promise<number | undefined> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expression)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { resultType: string; result: { value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`query ${expression}: ${body.error}`);
  if (body.data.result.length > 1) throw new Error(`query ${expression}: ${body.data.result.length} series, expected one`);
  const sample = body.data.result[0];
  return sample === undefined ? undefined : Number(sample.value[1]);
}

/** Waits until Prometheus has stored `expression` = `value` (it scrapes every second). */
function stored(expression: string, value: number, timeoutMs = 30_000): Promise<true> {
  return eventually(`Prometheus to hold ${expression} = ${value}`, async () => ((await query(expression)) === value ? true : undefined), timeoutMs, 250);
}

beforeAll(async () => {
  [vhost, glance] = await Promise.all([createVhost('metrics'), FakeGlance.start()]);
  ({ root } = prepareInstancesPath());
  const image = qcow2Image(root);
  glance.set(IMAGE_ID, { kind: 'serve', bytes: image, holdAfter: HELD_AFTER });
  const metricsPort = await closedPort();
  metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const config = writeConfig(
    root,
    daemonSections(HOST, vhost.url, {
      DEFAULT: { instances_path: join(root, 'instances'), metadata_listen: '127.0.0.1', metadata_listen_port: '0' },
      glance: { api_servers: glance.url },
      nova_spawnd: { metrics_listen: '127.0.0.1', metrics_listen_port: String(metricsPort) },
    }),
  );
  daemon = DaemonProcess.start(config);
  await daemon.waitForLog(/metrics and health listening/);
  await daemon.waitForLog(/consuming compute/);
  prometheusDir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-prometheus-'));
  prometheusUrl = await startPrometheus(prometheusDir, `127.0.0.1:${metricsPort}`);
}, 60_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await once(prometheus, 'exit');
  }
  if (daemon) {
    daemon.signal('SIGTERM');
    await Promise.race([daemon.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    await daemon.kill();
  }
  await glance?.stop();
  await vhost?.remove();
  if (root) rmSync(root, { recursive: true, force: true });
  if (prometheusDir) rmSync(prometheusDir, { recursive: true, force: true });
}, 30_000);

test('Prometheus stores the builds in flight while the image downloads, then the operations and the build histogram', async () => {
  await stored('up{job="nova-spawnd"}', 1);
  // The daemon's own health check, on the same listener: the broker and libvirt answer, no conductor configured.
  const health = await fetch(`${metricsUrl}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok', checks: { broker: { ok: true }, libvirt: { ok: true } } });

  const client = await connectClient(vhost.url);
  try {
    const channel = await client.createConfirmChannel();
    const image = readFileSync(join(root, 'image.qcow2'));
    for (let index = 0; index < BUILDS; index++) {
      const body = plainBody(newInstance(), { image_ref: IMAGE_ID }, (plain) => {
        plain['image'] = { ...(plain['image'] as object), id: IMAGE_ID, disk_format: 'qcow2', size: image.length };
      });
      channel.publish('nova', `compute.${HOST}`, body, JSON_PROPERTIES);
    }
    await channel.waitForConfirms();
  } finally {
    await client.close();
  }

  // All three wait on the one download (they share it), each holding a build slot.
  await stored('nova_spawnd_builds_in_flight', BUILDS);
  await stored('nova_spawnd_image_download_bytes_total', HELD_AFTER);
  expect(await query('sum(nova_spawnd_operations_total)')).toBeUndefined();
  glance.release();

  await stored('sum(nova_spawnd_operations_total{kind="build",outcome="done"})', BUILDS);
  await stored('sum(nova_spawnd_build_duration_seconds_count{outcome="done"})', BUILDS);
  await stored('nova_spawnd_builds_in_flight', 0);
  // The peak, as Prometheus recorded it over the run.
  expect(await query('max_over_time(nova_spawnd_builds_in_flight[5m])')).toBe(BUILDS);
  expect(await query('nova_spawnd_image_download_bytes_total')).toBe(readFileSync(join(root, 'image.qcow2')).length);
  expect(await query('nova_spawnd_image_cache_misses_total')).toBe(1);
  expect(await query('sum(nova_spawnd_build_step_duration_seconds_count{step="define"})')).toBe(BUILDS);
  expect(await query('sum(nova_spawnd_build_step_duration_seconds_count{step="start"})')).toBe(BUILDS);
  // Every build waited for the download: none took less than the time the image was held back.
  expect(await query('sum(nova_spawnd_build_duration_seconds_bucket{outcome="done",le="0.25"})')).toBe(0);
  expect(await query('nova_spawnd_broker_connected{connection="rpc"}')).toBe(1);
  expect(glance.requestsFor(IMAGE_ID)).toHaveLength(1);
  expect(daemon!.log).toMatch(/INFO nova_spawnd\.imagecache .*downloading image: 192\.0 KiB/);
  expect(daemon!.log).toMatch(/image downloaded: 192\.0 KiB in \d+\.\d s/);
}, 120_000);
