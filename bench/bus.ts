/**
 * Spawns through the real broker: the daemon consuming plain spawn requests (the metadata fixtures' full
 * instance: config drive, two VIFs, files, key) from its compute.<host> queue on the machine's RabbitMQ and
 * spawning them on test:///default, against the ceilings measured in the same run: the raw binding's
 * define+start loop, a raw amqplib publish/consume loop, and the spawn pipeline alone.
 *
 * "Done" for a spawn is the arrival of its instance.create.end notification: the daemon publishes it (and
 * waits for the broker's confirm) once the domain runs, and acks in the same turn right after, so the
 * latency shown is publish -> ack plus one confirm round trip. The daemon runs with four spawners, to
 * attribute the time: one that does nothing (the bus alone), the raw binding's define+start (the bus and
 * libvirt), the SpawnPipeline with placeholder disk files (test:///default never opens them), and the
 * SpawnPipeline with the real image cache (a qcow2 overlay per instance, made with qemu-img).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { SpawnDaemon } from '../src/bus/spawn-daemon.js';
import type { DiskPreparer } from '../src/compute/disk-preparer.js';
import { SpawnPipeline } from '../src/compute/spawn-pipeline.js';
import type { Spawner } from '../src/compute/spawner.js';
import { getLogger, setLogSink } from '../src/log.js';
import type { SpawnRequest } from '../src/nova/spawn-request.js';
import { LibvirtConnection } from '../src/virt/connection.js';
import { renderDomainXml } from '../src/virt/domain-xml.js';
import { ImageCache, LocalDiskPreparer } from '../src/virt/imagecache/index.js';
import { planGuest } from '../src/virt/plan-guest.js';
import { busOptions, daemonSections } from '../test/bus/helpers/config.js';
import { CACHED_IMAGE_ID } from '../test/bus/helpers/compute.js';
import { JSON_PROPERTIES, newInstance, plainBody, type TestInstance } from '../test/bus/helpers/messages.js';
import { connectClient, createVhost, type TestVhost } from '../test/bus/helpers/rabbit.js';
import { seedImage } from '../test/compute/seed-image.js';
import { fullRequest, testOptions } from '../test/metadata/fixtures.js';
import { guestRequest, spawnRequest, virtOptions } from '../test/virt/fixtures.js';
import { percentile } from './stats.js';

const MAX_CONCURRENT_BUILDS = 10;
const TARGET_PER_SECOND = 500;

interface Result {
  what: string;
  count: number;
  perSecond: number;
  latencyMs: number[];
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

function render(results: Result[]): string {
  const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
  return [
    `### Spawns through the broker (test:///default, max_concurrent_builds ${MAX_CONCURRENT_BUILDS}); target ${TARGET_PER_SECOND} spawns/s`,
    '',
    '| what | n | per second | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.what} | ${r.count} | ${r.perSecond.toFixed(0)} | ${ms(percentile(r.latencyMs, 50))} | ${ms(percentile(r.latencyMs, 99))} |`),
  ].join('\n');
}

/** `count` items through `work`, `concurrency` at a time: rate and per-item latency. */
async function concurrently(what: string, count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<Result> {
  const latencyMs: number[] = [];
  let next = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const began = now();
        await work(i);
        latencyMs.push(now() - began);
      }
    }),
  );
  return { what, count, perSecond: (count * 1000) / (now() - start), latencyMs };
}

/** define + start of a fresh domain through the binding, nothing else. */
function rawDefineStart(connection: LibvirtConnection): (request: SpawnRequest) => Promise<string> {
  return async (request) => {
    const { guest } = planGuest(guestRequest({ request: spawnRequest({ uuid: request.instance.uuid, id: request.instance.id }) }));
    const { name } = await connection.define(renderDomainXml(guest));
    await connection.start(name);
    return name;
  };
}

/** Persistent messages through a queue, consumed with manual acks, `prefetch` unacked at a time. */
async function rawAmqp(vhost: TestVhost, count: number, prefetch: number, oneAtATime: boolean): Promise<Result> {
  const client = await connectClient(vhost.url);
  try {
    const publisher = await client.createConfirmChannel();
    const consumer = await client.createChannel();
    const queue = `bench-raw-${randomUUID()}`;
    await consumer.assertQueue(queue, { durable: false, autoDelete: true });
    await consumer.prefetch(prefetch);
    const body = plainBody(newInstance());
    const sentAt: number[] = [];
    const latencyMs: number[] = [];
    let received: () => void = () => undefined;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.consume(queue, (message: ConsumeMessage | null) => {
      if (!message) return;
      consumer.ack(message);
      latencyMs.push(now() - sentAt[Number(message.properties.messageId)]!);
      if (latencyMs.length === count) done();
      received();
    });
    const start = now();
    for (let i = 0; i < count; i++) {
      const turn = oneAtATime ? new Promise<void>((resolve) => (received = resolve)) : null;
      sentAt[i] = now();
      publisher.publish('', queue, body, { ...JSON_PROPERTIES, messageId: String(i) });
      await turn;
    }
    await finished;
    const mode = oneAtATime ? 'one at a time' : `burst of ${count}, prefetch ${prefetch}`;
    return { what: `raw amqplib: publish -> consume + ack, ${mode}`, count, perSecond: (count * 1000) / (now() - start), latencyMs };
  } finally {
    await client.close();
  }
}

/** Empty files where the image cache would put the disks: test:///default never opens them. */
const placeholderDisks: DiskPreparer = {
  async prepare(_request, directory) {
    const path = join(directory, 'disk');
    writeFileSync(path, '', { flag: 'a' });
    return { images: { disk: { path, format: 'qcow2' } }, kernel: null };
  },
};

function pipeline(connection: LibvirtConnection, instancesPath: string, disks: DiskPreparer): SpawnPipeline {
  return new SpawnPipeline(
    { virt: virtOptions({ instances_path: instancesPath }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
    { connection, disks, log: getLogger('bench.compute') },
  );
}

/**
 * A daemon on a host queue of its own, spawning with `spawner`: its one-at-a-time latency and its
 * throughput on a burst, each spawn timed from its publish to its end notification.
 */
async function throughDaemon(vhost: TestVhost, label: string, spawner: Spawner, burst: number, sequential: number): Promise<Result[]> {
  const host = `compute-bench-${randomUUID().slice(0, 8)}`;
  const daemon = new SpawnDaemon(
    { bus: busOptions(daemonSections(host, vhost.url, { DEFAULT: { max_concurrent_builds: String(MAX_CONCURRENT_BUILDS) } })) },
    { spawner, log: getLogger('bench.bus') },
  );
  const client = await connectClient(vhost.url);
  try {
    daemon.start();
    await daemon.ready();
    const channel = await client.createChannel();
    const ends = new Map<string, () => void>();
    await channel.consume(
      'versioned_notifications.info',
      (message) => {
        if (!message) return;
        const inner = JSON.parse(JSON.parse(message.content.toString())['oslo.message']) as { event_type: string; payload: { 'nova_object.data': { uuid: string } } };
        if (inner.event_type === 'instance.create.end') ends.get(inner.payload['nova_object.data'].uuid)?.();
      },
      { noAck: true },
    );
    const run = async (count: number, oneAtATime: boolean): Promise<Result> => {
      const instances: TestInstance[] = Array.from({ length: count }, newInstance);
      const bodies = instances.map((instance) => plainBody(instance));
      const settled = instances.map((instance) => new Promise<void>((resolve) => ends.set(instance.uuid, resolve)));
      const latencyMs: number[] = [];
      const start = now();
      for (let i = 0; i < count; i++) {
        const began = now();
        const timed = settled[i]!.then(() => void latencyMs.push(now() - began));
        channel.publish('nova', `compute.${host}`, bodies[i]!, JSON_PROPERTIES);
        if (oneAtATime) await timed;
      }
      await Promise.all(settled);
      const elapsed = now() - start;
      // Each latency is recorded one turn after its spawn settles.
      await new Promise((resolve) => setImmediate(resolve));
      const mode = oneAtATime ? 'one at a time' : `burst of ${count}`;
      return { what: `nova-spawnd daemon, ${label}: publish -> running + acked, ${mode}`, count, perSecond: (count * 1000) / elapsed, latencyMs };
    };
    return [await run(sequential, true), await run(burst, false)];
  } finally {
    await daemon.stop(30_000);
    await client.close();
  }
}

export async function benchBus(quick: boolean): Promise<string> {
  const burst = quick ? 300 : 3000;
  const sequential = quick ? 50 : 300;
  // Formatted as always, written nowhere: the terminal would otherwise be the bottleneck.
  setLogSink(() => undefined);
  const vhost = await createVhost('bench');
  const root = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-bench-bus-'));
  const instancesPath = join(root, 'instances');
  seedImage(instancesPath, CACHED_IMAGE_ID);
  const connection = new LibvirtConnection('test:///default');
  const request = (): SpawnRequest => {
    const { uuid, id } = newInstance();
    return fullRequest({ uuid, id, image_ref: CACHED_IMAGE_ID });
  };
  const defineStart = rawDefineStart(connection);
  const withDomain = async (spawn: Promise<string>, uuid: string) => ({ uuid, domain: await spawn, outcome: 'spawned' as const, drive: 'none' as const });
  try {
    const results: Result[] = [
      await concurrently('ceiling: raw binding define + start, one at a time', burst, 1, async () => void (await defineStart(request()))),
      await concurrently(`ceiling: raw binding define + start, ${MAX_CONCURRENT_BUILDS} at a time`, burst, MAX_CONCURRENT_BUILDS, async () => void (await defineStart(request()))),
      await rawAmqp(vhost, sequential, 1, true),
      await rawAmqp(vhost, burst, MAX_CONCURRENT_BUILDS, false),
      await concurrently(`SpawnPipeline alone (placeholder disks), ${MAX_CONCURRENT_BUILDS} at a time`, burst, MAX_CONCURRENT_BUILDS, async () => {
        await pipeline(connection, instancesPath, placeholderDisks).spawn(request());
      }),
    ];
    const noop: Spawner = { spawn: async (r) => ({ uuid: r.instance.uuid, domain: 'none', outcome: 'spawned', drive: 'none' }) };
    const raw: Spawner = { spawn: (r) => withDomain(defineStart(r), r.instance.uuid) };
    const cache = new LocalDiskPreparer(new ImageCache({ instancesPath, apiServers: [] }), { defaultEphemeralFormat: null });
    results.push(
      ...(await throughDaemon(vhost, 'no-op spawner (the bus alone)', noop, burst, sequential)),
      ...(await throughDaemon(vhost, 'raw define + start', raw, burst, sequential)),
      ...(await throughDaemon(vhost, 'SpawnPipeline, placeholder disks', pipeline(connection, instancesPath, placeholderDisks), burst, sequential)),
      ...(await throughDaemon(vhost, 'SpawnPipeline, image cache + qcow2 overlays', pipeline(connection, instancesPath, cache), Math.ceil(burst / 5), Math.ceil(sequential / 5))),
    );
    return render(results);
  } finally {
    await connection.close();
    setLogSink((line) => void process.stderr.write(line));
    await vhost.remove();
    rmSync(root, { recursive: true, force: true });
  }
}
