/**
 * Spawns through the real broker: `nova-spawnd run` as its own process (what systemd starts: the image
 * cache, qcow2 overlays, the metadata record, INFO logs), consuming plain spawn requests (the metadata
 * fixtures' full instance: config drive, two VIFs, files, key) from its compute.<host> queue on the
 * machine's RabbitMQ and spawning them on test:///default, while this process plays nova-conductor. Against
 * the ceilings measured in the same run: the raw binding's define+start loop, a raw amqplib publish/consume
 * loop, the spawn pipeline alone, a floor (a durable spawn with only the steps it cannot skip, written
 * directly against amqplib, the binding and the file system), and the daemon class in this process with
 * two spawners that attribute the time (one that does nothing: the bus alone; the raw binding's
 * define+start: the bus and libvirt).
 *
 * "Done" for a spawn is the arrival of its instance.create.end notification: the daemon publishes it once
 * the domain runs and acks the message right after the broker confirms it, so the time shown ends about
 * when the ack is sent (it does not wait for the broker to take the ack). A spawn that fails (its
 * instance.create.error), a daemon that exits, or a run that takes longer than RUN_TIMEOUT_MS fails the
 * benchmark.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { Hypervisor } from '@unraid/libvirt';
import type { CreatePhase } from '../src/bus/instance-create-payload.js';
import { Notifier, type NotificationPublisher } from '../src/bus/notifier.js';
import { deadLetterTopology, declareTopology, fanoutQueueName, notificationTopology, rpcTopology } from '../src/bus/topology.js';
import { buildImage } from '../src/configdrive/make-drive.js';
import type { DiskImage } from '../src/disk-image.js';
import { buildInstanceMetadata, toDriveTree } from '../src/metadata/instance-metadata.js';
import { qcow2OverlayLayout } from '../src/virt/imagecache/qcow2-layout.js';
import { SpawnDaemon } from '../src/bus/spawn-daemon.js';
import type { DiskPreparer } from '../src/compute/disk-preparer.js';
import { LibvirtDriver } from '../src/compute/libvirt-driver.js';
import { SpawnPipeline } from '../src/compute/spawn-pipeline.js';
import type { Spawner } from '../src/compute/spawner.js';
import { getLogger, setLogSink } from '../src/log.js';
import { openMetadataRegistry } from '../src/metadata-api/registry.js';
import type { SpawnRequest } from '../src/nova/spawn-request.js';
import { LibvirtConnection } from '../src/virt/connection.js';
import { renderDomainXml } from '../src/virt/domain-xml.js';
import { planGuest } from '../src/virt/plan-guest.js';
import { busOptions, daemonSections, writeConfig } from '../test/bus/helpers/config.js';
import { CACHED_IMAGE_ID, standaloneCompute } from '../test/bus/helpers/compute.js';
import { JSON_PROPERTIES, newInstance, plainBody, type TestInstance } from '../test/bus/helpers/messages.js';
import { connectClient, createVhost, type TestVhost } from '../test/bus/helpers/rabbit.js';
import { seedImage } from '../test/compute/seed-image.js';
import { fullRequest, testOptions } from '../test/metadata/fixtures.js';
import { guestRequest, spawnRequest, virtOptions } from '../test/virt/fixtures.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { percentile } from './stats.js';

const MAX_CONCURRENT_BUILDS = 10;
const TARGET_PER_SECOND = 500;
const RUN_TIMEOUT_MS = 10 * 60_000;
/** The floor's templates are built for this uuid; each spawn substitutes its own. */
const FLOOR_UUID = 'f1004000-0000-4000-8000-00000000f100';

/**
 * Spawns sent at once and not measured (a daemon that has just started runs its code unoptimised: the
 * targets are about one that has been up a while), then one at a time (latency), then at once (throughput).
 */
interface SpawnCounts {
  warmUp: number;
  burst: number;
  sequential: number;
}

interface Result {
  what: string;
  count: number;
  perSecond: number;
  latencyMs: number[];
  /** CPU time (all threads) per spawn: the daemon's when it runs as a process of its own, RabbitMQ's, this process's. */
  cpuMs?: { daemon: number | undefined; broker: number | undefined; here: number } | undefined;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

function render(results: Result[]): string {
  const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
  return [
    `### Spawns through the broker (test:///default, max_concurrent_builds ${MAX_CONCURRENT_BUILDS}); target ${TARGET_PER_SECOND} spawns/s`,
    '',
    '| what | n | per second | p50 ms | p99 ms | CPU ms per spawn: daemon | RabbitMQ | this process |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => {
      const cpu = (value: number | undefined): string => (value === undefined ? '' : value.toFixed(2));
      return `| ${r.what} | ${r.count} | ${r.perSecond.toFixed(0)} | ${ms(percentile(r.latencyMs, 50))} | ${ms(percentile(r.latencyMs, 99))} | ${cpu(r.cpuMs?.daemon)} | ${cpu(r.cpuMs?.broker)} | ${cpu(r.cpuMs?.here)} |`;
    }),
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
    const domain = await connection.define(renderDomainXml(guest));
    await connection.start(domain);
    return domain.name;
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

async function pipeline(connection: LibvirtConnection, instancesPath: string, disks: DiskPreparer): Promise<SpawnPipeline> {
  const records = await openMetadataRegistry(instancesPath, getLogger('bench.metadata'));
  return new SpawnPipeline(
    { virt: virtOptions({ instances_path: instancesPath }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
    { connection, disks, log: getLogger('bench.compute'), records },
  );
}

/** A process's CPU time so far (user + system, all threads), in ms: /proc/<pid>/stat counts it in clock ticks. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** The machine's RabbitMQ (its Erlang VM), whose CPU the spawns cost too; null if it cannot be found. */
function brokerPid(): number | null {
  try {
    return Number(execFileSync('pgrep', ['-o', 'beam.smp'], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

const ownCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Spawns through a daemon already consuming compute.<host>, as nova-conductor sends them: one at a time
 * (latency), then a burst (throughput), each timed from its publish to its end notification. `daemon`, when
 * it is a process of its own: its CPU time, and its exit, which fails the run.
 */
async function measureSpawns(
  client: ChannelModel,
  host: string,
  label: string,
  counts: SpawnCounts,
  body: (instance: TestInstance) => Buffer,
  daemon: { cpuMs: () => number; exited: Promise<unknown> } | null = null,
): Promise<Result[]> {
  const channel = await client.createChannel();
  const waiting = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const onNotification = (message: ConsumeMessage | null): void => {
    if (!message) return;
    const inner = JSON.parse(JSON.parse(message.content.toString())['oslo.message']) as { event_type: string; payload: { 'nova_object.data': { uuid: string } } };
    const uuid = inner.payload['nova_object.data'].uuid;
    if (inner.event_type === 'instance.create.end') waiting.get(uuid)?.resolve();
    if (inner.event_type === 'instance.create.error') waiting.get(uuid)?.reject(new Error(`the daemon failed to spawn ${uuid}: ${message.content.toString().slice(0, 2000)}`));
  };
  await channel.consume('versioned_notifications.info', onNotification, { noAck: true });
  await channel.consume('versioned_notifications.error', onNotification, { noAck: true });
  const run = async (count: number, oneAtATime: boolean): Promise<Result> => {
    const instances: TestInstance[] = Array.from({ length: count }, newInstance);
    const bodies = instances.map(body);
    const settled = instances.map((instance) => new Promise<void>((resolve, reject) => waiting.set(instance.uuid, { resolve, reject })));
    const latencyMs: number[] = [];
    const broker = brokerPid();
    const cpuNow = (): NonNullable<Result['cpuMs']> => ({
      daemon: daemon?.cpuMs(),
      broker: broker === null ? undefined : cpuMsOf(broker),
      here: ownCpuMs(),
    });
    const cpuBefore = cpuNow();
    let timer: NodeJS.Timeout | undefined;
    const failure = Promise.race([
      daemon ? daemon.exited.then((code) => Promise.reject(new Error(`nova-spawnd run exited (${String(code)}) in the middle of the run`))) : new Promise<never>(() => undefined),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: not done within ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS))),
    ]);
    try {
      const start = now();
      for (let i = 0; i < count; i++) {
        const began = now();
        const timed = settled[i]!.then(() => void latencyMs.push(now() - began));
        channel.publish('nova', `compute.${host}`, bodies[i]!, JSON_PROPERTIES);
        if (oneAtATime) await Promise.race([timed, failure]);
      }
      await Promise.race([Promise.all(settled), failure]);
      const elapsed = now() - start;
      // Each latency is recorded one turn after its spawn settles.
      await new Promise((resolve) => setImmediate(resolve));
      const mode = oneAtATime ? 'one at a time' : `burst of ${count}`;
      const perSpawn = (after: number | undefined, before: number | undefined): number | undefined =>
        after === undefined || before === undefined ? undefined : (after - before) / count;
      const cpuAfter = cpuNow();
      const cpuMs = {
        daemon: perSpawn(cpuAfter.daemon, cpuBefore.daemon),
        broker: perSpawn(cpuAfter.broker, cpuBefore.broker),
        here: perSpawn(cpuAfter.here, cpuBefore.here)!,
      };
      return { what: `${label}: publish -> instance.create.end, ${mode}`, count, perSecond: (count * 1000) / elapsed, latencyMs, cpuMs };
    } finally {
      clearTimeout(timer);
      for (const promise of settled) promise.catch(() => undefined);
    }
  };
  try {
    await run(counts.warmUp, false);
    return [await run(counts.sequential, true), await run(counts.burst, false)];
  } finally {
    await channel.close();
  }
}

/** The SpawnDaemon class in this process, on a host queue of its own, spawning with `spawner`. */
async function throughDaemon(vhost: TestVhost, label: string, spawner: Spawner, driver: LibvirtDriver, counts: SpawnCounts): Promise<Result[]> {
  const host = `compute-bench-${randomUUID().slice(0, 8)}`;
  const daemon = new SpawnDaemon(
    { bus: busOptions(daemonSections(host, vhost.url, { DEFAULT: { max_concurrent_builds: String(MAX_CONCURRENT_BUILDS) } })) },
    { compute: standaloneCompute(spawner, driver, { maxConcurrentBuilds: MAX_CONCURRENT_BUILDS }), log: getLogger('bench.bus') },
  );
  const client = await connectClient(vhost.url);
  try {
    daemon.start();
    await daemon.ready();
    return await measureSpawns(client, host, `nova-spawnd daemon in this process, ${label}`, counts, (instance) => plainBody(instance));
  } finally {
    await daemon.stop(30_000);
    await client.close();
  }
}

/**
 * `nova-spawnd run` as systemd starts it, on a nova.conf of its own (instances under `root`, whose image
 * cache holds the instances' image), its log in a file as journald would take it.
 */
async function throughProcess(
  vhost: TestVhost,
  root: string,
  label: string,
  counts: SpawnCounts,
  body: (instance: TestInstance) => Buffer,
): Promise<Result[]> {
  const host = `compute-bench-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(root, 'daemon-'));
  const instancesPath = join(dir, 'instances');
  seedImage(instancesPath, CACHED_IMAGE_ID);
  const config = writeConfig(
    dir,
    daemonSections(host, vhost.url, {
      // The metadata API stays off (its port is the machine's); the daemon still records every instance's metadata.
      DEFAULT: { max_concurrent_builds: String(MAX_CONCURRENT_BUILDS), instances_path: instancesPath, state_path: dir, enabled_apis: 'osapi_compute' },
    }),
  );
  const client = await connectClient(vhost.url);
  const log = openSync(join(dir, 'daemon.log'), 'a');
  let daemon: ChildProcess | null = null;
  try {
    daemon = spawn(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli.js'), 'run', '--config-file', config], { stdio: ['ignore', 'ignore', log] });
    const exited = new Promise<number | null>((resolve) => {
      daemon!.on('exit', resolve);
      daemon!.on('error', () => resolve(null));
    });
    await waitForQueue(client, `compute.${host}`, exited);
    const pid = daemon.pid!;
    return await measureSpawns(client, host, `nova-spawnd run (its own process), ${label}`, counts, body, { cpuMs: () => cpuMsOf(pid), exited });
  } finally {
    if (daemon) await stopProcess(daemon);
    closeSync(log);
    await client.close();
  }
}

/** `image` as a new file at `path`, sized first and written sparsely, its data synced: the least a durable disk needs. */
async function writeSynced(path: string, image: DiskImage): Promise<void> {
  const file = await open(path, 'wx');
  try {
    await file.truncate(image.size);
    for (const { offset, bytes } of image.extents) await file.write(bytes, 0, bytes.length, offset);
    await file.datasync();
  } finally {
    await file.close();
  }
}

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The floor: a spawn made durable before its ack with only the steps it cannot skip, written directly
 * against these components (this RabbitMQ, this libvirt binding, this file system) with none of
 * nova-spawnd's code on the path. Per message: parse the body; look its uuid up in libvirt (a redelivery
 * must not spawn twice); write and sync the config drive and the disk overlay and sync their new directory;
 * define and start the domain; publish instance.create.start and .end on a confirm channel; ack once .end
 * is confirmed. The drive, the overlay, the domain XML and both notifications are built once, before the
 * run, by nova-spawnd's code (the uuid and the name are substituted per spawn), so they are what the real
 * ones are. If the floor stays below the target on a machine, nothing built on these components reaches
 * it there.
 */
async function floorSpawns(vhost: TestVhost, root: string, counts: SpawnCounts): Promise<Result[]> {
  const host = `compute-bench-${randomUUID().slice(0, 8)}`;
  const options = busOptions(daemonSections(host, vhost.url));
  const instancesPath = mkdtempSync(join(root, 'floor-'));
  const template = fullRequest({ uuid: FLOOR_UUID, id: 1, image_ref: CACHED_IMAGE_ID });
  const connection = new LibvirtConnection('test:///default');
  const xml = (await pipeline(connection, instancesPath, placeholderDisks)).dryRun(template).xml;
  await connection.close();
  const [nameElement] = xml.match(/<name>[^<]*<\/name>/) ?? [];
  if (nameElement === undefined || !xml.includes(FLOOR_UUID)) throw new Error('the floor\'s domain XML template lacks its name or uuid');
  const drive = buildImage(toDriveTree(buildInstanceMetadata(template, testOptions())), 'iso9660', new Date());
  const overlay = qcow2OverlayLayout({ backingFile: join(instancesPath, '_base', 'image'), backingFormat: 'raw', virtualSize: 1 << 30, clusterSize: null })!;
  const notifications = new Map<CreatePhase, Buffer>();
  for (const phase of ['start', 'end'] as const) {
    const capture: NotificationPublisher = { publish: async (_exchange, _key, body) => void notifications.set(phase, body) };
    await new Notifier(options, capture).instanceCreate({ phase, source: { request: template }, context: {}, domain: 'floor' });
  }
  const notification = (phase: CreatePhase, uuid: string): Buffer => Buffer.from(notifications.get(phase)!.toString().replaceAll(FLOOR_UUID, uuid));

  const hypervisor = new Hypervisor({ uri: 'test:///default' });
  await hypervisor.connectOpen();
  const client = await connectClient(vhost.url);
  try {
    const consumer = await client.createChannel();
    const publisher = await client.createConfirmChannel();
    const queueMode = { quorum: false, durable: false, autoDelete: false };
    await declareTopology(consumer, rpcTopology({ controlExchange: 'nova', host, queueMode, fanoutQueue: fanoutQueueName(), maxAttempts: 1 }));
    await declareTopology(consumer, deadLetterTopology(0));
    await declareTopology(consumer, notificationTopology({ controlExchange: 'nova', queueMode, routingKeys: ['versioned_notifications.info', 'versioned_notifications.error'] }));
    await consumer.prefetch(MAX_CONCURRENT_BUILDS);
    const publish = (key: string, body: Buffer): Promise<void> =>
      new Promise((resolve, reject) => publisher.publish('nova', key, body, JSON_PROPERTIES, (error: unknown) => (error ? reject(error) : resolve())));
    const spawnOne = async (message: ConsumeMessage): Promise<void> => {
      const { uuid } = JSON.parse(message.content.toString()) as { uuid: string };
      try {
        const found = await hypervisor.domainLookupByUUIDString(uuid).then(() => true, () => false);
        if (found) throw new Error(`${uuid} is defined already`);
        const started = publish('versioned_notifications.info', notification('start', uuid));
        const directory = join(instancesPath, uuid);
        await mkdir(directory);
        await Promise.all([writeSynced(join(directory, 'disk.config'), drive), writeSynced(join(directory, 'disk'), overlay)]);
        await syncDirectory(directory);
        const domain = await hypervisor.domainDefineXML(xml.replaceAll(FLOOR_UUID, uuid).replace(nameElement, `<name>floor-${uuid}</name>`));
        await hypervisor.domainCreate(domain);
        await started;
        await publish('versioned_notifications.info', notification('end', uuid));
      } catch (error) {
        const failed = { event_type: 'instance.create.error', payload: { 'nova_object.data': { uuid, error: String(error) } } };
        await publish('versioned_notifications.error', Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(failed) })));
      }
      consumer.ack(message);
    };
    await consumer.consume(`compute.${host}`, (message) => void (message && spawnOne(message)));
    return await measureSpawns(client, host, 'floor: a durable spawn with only the steps it cannot skip, no nova-spawnd code', counts, (instance) => plainBody(instance));
  } finally {
    await client.close();
    await hypervisor.connectClose();
  }
}

/** SIGTERM (the daemon finishes its builds and exits), then SIGKILL if it has not within 30 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(killer);
}

/** Until the daemon has declared `queue` (it consumes once it has); fails if the daemon exits first. */
export async function waitForQueue(client: ChannelModel, queue: string, exited: Promise<number | null>): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (let attempt = 0; ; attempt++) {
    if (exitCode !== undefined) throw new Error(`nova-spawnd run exited (${exitCode}) before declaring ${queue}`);
    if (attempt === 300) throw new Error(`nova-spawnd run did not declare ${queue} within 30 s`);
    // A passive declare of a missing queue closes its channel: one channel per try.
    const channel = await client.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.checkQueue(queue);
      await channel.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function benchBus(quick: boolean): Promise<string> {
  const burst = quick ? 300 : 3000;
  const sequential = quick ? 50 : 300;
  const counts = { warmUp: quick ? 100 : 1000, burst, sequential };
  // Formatted as always, written nowhere: the terminal would otherwise be the bottleneck.
  setLogSink(() => undefined);
  const vhost = await createVhost('bench');
  const connection = new LibvirtConnection('test:///default');
  const roots: string[] = [];
  try {
    const root = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-bench-bus-'));
    roots.push(root);
    const memoryRoot = mkdtempSync(join('/dev/shm', 'nova-spawnd-bench-bus-'));
    roots.push(memoryRoot);
    const instancesPath = join(root, 'instances');
    seedImage(instancesPath, CACHED_IMAGE_ID);
    const request = (): SpawnRequest => {
      const { uuid, id } = newInstance();
      return fullRequest({ uuid, id, image_ref: CACHED_IMAGE_ID });
    };
    const defineStart = rawDefineStart(connection);
    const withDomain = async (spawn: Promise<string>, uuid: string) => ({ uuid, domain: await spawn, outcome: 'spawned' as const, drive: 'none' as const });
    const alone = await pipeline(connection, instancesPath, placeholderDisks);
    // Builds only here: the driver of the rest is there because a compute manager has one.
    const driver = new LibvirtDriver({ instancesPath, waitSoftRebootSeconds: 120 }, { connection, records: await openMetadataRegistry(instancesPath, getLogger('bench.metadata')), log: getLogger('bench.driver') });
    const results: Result[] = [
      await concurrently('ceiling: raw binding define + start, one at a time', burst, 1, async () => void (await defineStart(request()))),
      await concurrently(`ceiling: raw binding define + start, ${MAX_CONCURRENT_BUILDS} at a time`, burst, MAX_CONCURRENT_BUILDS, async () => void (await defineStart(request()))),
      await rawAmqp(vhost, sequential, 1, true),
      await rawAmqp(vhost, burst, MAX_CONCURRENT_BUILDS, false),
      await concurrently(`SpawnPipeline alone in this process (placeholder disks), ${MAX_CONCURRENT_BUILDS} at a time`, burst, MAX_CONCURRENT_BUILDS, async () => {
        await alone.spawn(request());
      }),
    ];
    const noop: Spawner = { spawn: async (r) => ({ uuid: r.instance.uuid, domain: 'none', outcome: 'spawned', drive: 'none' }) };
    const raw: Spawner = { spawn: (r) => withDomain(defineStart(r), r.instance.uuid) };
    results.push(
      ...(await floorSpawns(vhost, root, counts)),
      ...(await throughDaemon(vhost, 'no-op spawner (the bus alone)', noop, driver, counts)),
      ...(await throughDaemon(vhost, 'raw define + start', raw, driver, counts)),
      ...(await throughProcess(vhost, root, 'full instance with a config drive', counts, (instance) => plainBody(instance))),
      ...(await throughProcess(vhost, root, 'the same without a config drive', counts, (instance) => plainBody(instance, { config_drive: '' }))),
      // The same daemon with instances_path in memory: what the file system (ext4 here) costs.
      ...(await throughProcess(vhost, memoryRoot, 'full instance, instances_path on tmpfs', counts, (instance) => plainBody(instance))),
    );
    return render(results);
  } finally {
    await connection.close();
    setLogSink((line) => void process.stderr.write(line));
    await vhost.remove();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  }
}
