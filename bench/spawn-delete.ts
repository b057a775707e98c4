/**
 * No leak: `nova-spawnd run` (its own process, standalone, test:///default) builds and deletes instances through
 * the machine's RabbitMQ, cycle after cycle, CYCLES_IN_FLIGHT at a time, and its resident size
 * (/proc/<pid>/status VmRSS) is read idle, after the first checkpoint and after the last, with the peak (VmHWM).
 * At each reading the cycles in flight have finished and the daemon has sat idle SETTLE_MS; the size is read
 * as found, then after a full garbage collection of its main thread (bench/full-gc-on-signal.ts, preloaded):
 * an idle daemon allocates nothing, so nothing triggers a collection, and the size it sits at depends on when
 * its last one ran (up to tens of MiB of dropped buffers not yet freed). The verdict compares the sizes after
 * the collection: what the daemon keeps. Readings between the first checkpoint and the last tell a size that
 * levels off from one that keeps rising.
 *
 * The daemon runs as systemd/nova-spawnd.service runs it (its Environment=), then again without that
 * environment, on glibc's defaults: what the unit's malloc setting is worth.
 *
 * The messages are Nova's own: Nova's ComputeAPI (test/bus/helpers/oslo_peer.py) casts build_and_run_instance
 * and terminate_instance for one instance to a queue of ours, and each cycle sends those two bodies with the
 * instance's uuid and id, the `_unique_id` and the request id replaced. A build is done on its
 * instance.create.end; a delete when the daemon logs `terminate done: acking` for its instance (standalone, a
 * delete sends no notification).
 *
 * Afterwards: no instance directory left under instances_path, the metadata service answers 404 for every
 * instance (and answered 200 for the first before its delete), the daemon's log names a domain removed for
 * every delete, and nothing was dead-lettered or left in compute.<host>. Any of these failing fails the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import { DEAD_LETTER_QUEUE } from '../src/bus/topology.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { daemonSections, writeConfig } from '../test/bus/helpers/config.js';
import { CACHED_IMAGE_ID } from '../test/bus/helpers/compute.js';
import { newInstance, type TestInstance } from '../test/bus/helpers/messages.js';
import { connectClient, createVhost, queueCounts, type TestVhost } from '../test/bus/helpers/rabbit.js';
import { seedImage } from '../test/compute/seed-image.js';
import { proxyHeaders } from '../test/metadata-api/fixtures.js';
import { runPython } from '../test/metadata/python.js';
import { stopProcess, waitForQueue } from './bus.js';
import { FULL_GC_DONE } from './full-gc-on-signal.js';

const CYCLES_IN_FLIGHT = 10;
/** Before a reading: the daemon idle this long. */
const SETTLE_MS = 3000;
/** A build, a delete or a garbage collection not done by then fails the run. */
const STEP_TIMEOUT_MS = 120_000;
/** The share by which the size after the last cycle may differ from the size after the first checkpoint. */
const ALLOWED_DIFFERENCE = 0.1;
const SECRET = 'bench-spawn-delete-secret';
const PEER = join(PACKAGE_ROOT, 'test/bus/helpers/oslo_peer.py');
const FULL_GC_PRELOAD = pathToFileURL(join(PACKAGE_ROOT, 'dist/bench/full-gc-on-signal.js')).href;

/** One of Nova's casts for a template instance, to be sent again for others. */
interface NovaCast {
  /** The inner oslo message, as text. */
  inner: string;
  properties: Options.Publish;
}

interface Templates {
  template: TestInstance;
  projectId: string;
  build: NovaCast;
  terminate: NovaCast;
}

/**
 * Nova's build_and_run_instance and terminate_instance casts for one instance, sent by Nova's ComputeAPI through
 * oslo.messaging to compute.<a host of ours>, where this process takes them off the queue. The exchange is the
 * daemon's, declared as oslo declares it: a daemon must have started on the vhost.
 */
async function novaCasts(client: ChannelModel, vhost: TestVhost): Promise<Templates> {
  const queue = `compute.capture-${randomUUID().slice(0, 8)}`;
  const host = queue.slice('compute.'.length);
  const channel = await client.createChannel();
  try {
    await channel.assertQueue(queue, { durable: false, autoDelete: false });
    await channel.bindQueue(queue, 'nova', queue);
    // An id no other instance of the run has, long enough not to occur by chance in the rest of the body.
    const template: TestInstance = { uuid: randomUUID(), id: 900_000_000 + Math.floor(Math.random() * 90_000_000) };
    const peer = (...args: string[]): Promise<string> => runPython([PEER, args[0]!, vhost.url, host, template.uuid, String(template.id), CACHED_IMAGE_ID, ...args.slice(1)], null);
    const take = async (): Promise<NovaCast> => {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) throw new Error(`Nova's cast did not reach ${queue}`);
      const { contentType, contentEncoding, deliveryMode } = message.properties;
      return { inner: (JSON.parse(message.content.toString()) as { 'oslo.message': string })['oslo.message'], properties: { contentType, contentEncoding, deliveryMode } };
    };
    await peer('cast');
    const build = await take();
    const sent = await peer('lifecycle', 'terminate_instance');
    if (!sent.includes('"result"')) throw new Error(`Nova's terminate_instance cast failed: ${sent}`);
    const terminate = await take();
    const instance = (JSON.parse(build.inner) as { args: { instance: { 'nova_object.data': { project_id: string } } } }).args.instance['nova_object.data'];
    return { template, projectId: instance.project_id, build, terminate };
  } finally {
    await channel.deleteQueue(queue).catch(() => undefined);
    await channel.close().catch(() => undefined);
  }
}

/** Nova's cast for `instance` instead of the template's: a message of its own, from a request of its own. */
function castFor(cast: NovaCast, template: TestInstance, instance: TestInstance): Buffer {
  const inner = JSON.parse(cast.inner.replaceAll(template.uuid, instance.uuid).replaceAll(String(template.id), String(instance.id))) as Record<string, unknown>;
  inner['_unique_id'] = randomUUID().replace(/-/g, '');
  inner['_context_request_id'] = `req-${randomUUID()}`;
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
}

/** The instance a cast names, read back: what castFor made must be the instance it was asked for. */
function instanceOf(body: Buffer): TestInstance {
  const inner = JSON.parse((JSON.parse(body.toString()) as { 'oslo.message': string })['oslo.message']) as { args: { instance: { 'nova_object.data': TestInstance } } };
  const { uuid, id } = inner.args.instance['nova_object.data'];
  return { uuid, id };
}

/** The daemon's resident size now, and its peak so far, in MiB. */
function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

type Waiters = Map<string, { resolve: () => void; reject: (error: Error) => void }>;

/** The daemon's log, to a file and read as it comes: waiters for one line per instance, counts of the lines that matter. */
class DaemonLog {
  private pending = '';
  readonly deleted: Waiters = new Map();
  private collected: (() => void) | null = null;
  readonly counts = { spawning: 0, spawned: 0, terminates: 0, destroyedDomains: 0, warnings: 0, errors: 0 };
  private readonly lastLines: string[] = [];

  constructor(private readonly file: WriteStream) {}

  take(chunk: Buffer): void {
    this.file.write(chunk);
    const lines = (this.pending + chunk.toString()).split('\n');
    this.pending = lines.pop()!;
    for (const line of lines) this.line(line);
  }

  /** Resolves at the next line of the preload saying a full garbage collection is done. */
  nextCollection(): Promise<void> {
    return new Promise((resolve) => (this.collected = resolve));
  }

  private line(line: string): void {
    this.lastLines.push(line);
    if (this.lastLines.length > 20) this.lastLines.shift();
    if (line === FULL_GC_DONE) return this.collected?.();
    const instance = /\[instance: (\S+)\] /.exec(line)?.[1];
    if (line.includes(' WARNING ')) this.counts.warnings++;
    if (line.includes(' ERROR ')) this.counts.errors++;
    if (/ INFO \S+ \[.*\] spawning /.test(line)) this.counts.spawning++;
    else if (line.includes('instance spawned: acking')) this.counts.spawned++;
    else if (/Instance destroyed successfully\. .*domain=instance-/.test(line)) this.counts.destroyedDomains++;
    else if (line.includes('terminate done: acking')) {
      this.counts.terminates++;
      if (instance !== undefined) this.deleted.get(instance)?.resolve();
    } else if (line.includes('message rejected') && instance !== undefined) {
      this.deleted.get(instance)?.reject(new Error(`the daemon rejected a message of ${instance}: ${line}`));
    }
  }

  get tail(): string {
    return this.lastLines.join('\n');
  }

  close(): void {
    this.file.end();
  }
}

/** `nova-spawnd run` on a nova.conf of its own under `dir`, consuming compute.<host> on `vhost`. */
class Daemon {
  readonly log: DaemonLog;
  /** Rejects when the daemon exits. */
  readonly died: Promise<never>;
  readonly pid: number;

  private constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    readonly instancesPath: string,
    readonly metadataPort: number,
    log: DaemonLog,
    died: Promise<never>,
  ) {
    this.log = log;
    this.died = died;
    this.pid = child.pid!;
  }

  static async start(dir: string, vhost: TestVhost, client: ChannelModel, environment: Record<string, string>): Promise<Daemon> {
    const host = `compute-bench-${randomUUID().slice(0, 8)}`;
    const instancesPath = join(dir, 'instances');
    seedImage(instancesPath, CACHED_IMAGE_ID);
    const config = writeConfig(
      dir,
      daemonSections(host, vhost.url, {
        DEFAULT: { max_concurrent_builds: String(CYCLES_IN_FLIGHT), instances_path: instancesPath, state_path: dir, enabled_apis: 'metadata', metadata_listen: '127.0.0.1', metadata_listen_port: '0' },
        neutron: { service_metadata_proxy: 'true', metadata_proxy_shared_secret: SECRET },
      }),
    );
    const log = new DaemonLog(createWriteStream(join(dir, 'daemon.log')));
    const child = spawn(process.execPath, ['--expose-gc', '--import', FULL_GC_PRELOAD, join(PACKAGE_ROOT, 'dist/src/cli.js'), 'run', '--config-file', config], {
      // This process's environment without glibc's malloc settings, then the variant's.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^MALLOC_/.test(name))), NODE_OPTIONS: '', ...environment },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (chunk: Buffer) => log.take(chunk));
    const exited = new Promise<number | null>((resolve) => {
      child.on('exit', resolve);
      child.on('error', () => resolve(null));
    });
    const died = exited.then((code) => Promise.reject(new Error(`nova-spawnd run exited (${String(code)}):\n${log.tail}`)));
    died.catch(() => undefined);
    try {
      await waitForQueue(client, `compute.${host}`, exited);
      const port = Number(/metadata API listening .*port=(\d+)/.exec(readFileSync(join(dir, 'daemon.log'), 'utf8'))?.[1]);
      if (!Number.isInteger(port)) throw new Error(`the daemon did not say where its metadata API listens:\n${log.tail}`);
      return new Daemon(child, host, instancesPath, port, log, died);
    } catch (error) {
      await stopProcess(child);
      throw error;
    }
  }

  /** Resolves when `waiters` hears of `uuid` after `send`; fails on a timeout or the daemon's exit. */
  async await(waiters: Waiters, uuid: string, what: string, send: () => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<void>((resolve, reject) => waiters.set(uuid, { resolve, reject }));
    try {
      send();
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} of ${uuid} not done within ${STEP_TIMEOUT_MS} ms:\n${this.log.tail}`)), STEP_TIMEOUT_MS)));
      await Promise.race([heard, this.died, late]);
    } finally {
      clearTimeout(timer);
      waiters.delete(uuid);
    }
  }

  /** After SETTLE_MS idle: the resident size as found, then after a full garbage collection. */
  async reading(): Promise<Reading> {
    await Promise.race([sleep(SETTLE_MS), this.died]);
    const asFoundMiB = memoryOf(this.pid).rssMiB;
    const collected = this.log.nextCollection();
    this.child.kill('SIGUSR2');
    await Promise.race([collected, this.died, sleep(STEP_TIMEOUT_MS).then(() => Promise.reject(new Error('no full garbage collection in time')))]);
    return { asFoundMiB, collectedMiB: memoryOf(this.pid).rssMiB };
  }

  async metadataStatus(uuid: string, projectId: string): Promise<number> {
    return (await fetch(`http://127.0.0.1:${this.metadataPort}/openstack/latest/meta_data.json`, { headers: proxyHeaders(uuid, projectId, SECRET) })).status;
  }

  async stop(): Promise<void> {
    await stopProcess(this.child);
    this.log.close();
  }
}

interface Reading {
  asFoundMiB: number;
  /** After a full garbage collection. */
  collectedMiB: number;
}

interface Run {
  label: string;
  idle: Reading;
  checkpoints: ({ cycles: number } & Reading)[];
  peakMiB: number;
  cyclesPerSecond: number;
  checks: { what: string; found: string; ok: boolean }[];
}

/** `total` spawn + delete cycles through `daemon`, read at each checkpoint, then the checks. */
async function cycles(daemon: Daemon, client: ChannelModel, vhost: TestVhost, templates: Templates, checkpoints: number[], label: string): Promise<Run> {
  const total = checkpoints.at(-1)!;
  const channel: Channel = await client.createChannel();
  const created: Waiters = new Map();
  const onNotification = (message: ConsumeMessage | null): void => {
    if (!message) return;
    const inner = JSON.parse((JSON.parse(message.content.toString()) as { 'oslo.message': string })['oslo.message']) as { event_type: string; payload: { 'nova_object.data': { uuid: string } } };
    const uuid = inner.payload['nova_object.data'].uuid;
    if (inner.event_type === 'instance.create.end') created.get(uuid)?.resolve();
    if (inner.event_type === 'instance.create.error') created.get(uuid)?.reject(new Error(`the daemon failed to spawn ${uuid}: ${message.content.toString().slice(0, 2000)}`));
  };
  await channel.consume('versioned_notifications.info', onNotification, { noAck: true });
  await channel.consume('versioned_notifications.error', onNotification, { noAck: true });
  const key = `compute.${daemon.host}`;
  const uuids: string[] = [];
  let servedBeforeDelete = 0;
  const cycle = async (index: number): Promise<void> => {
    const instance = newInstance();
    uuids.push(instance.uuid);
    const build = castFor(templates.build, templates.template, instance);
    const terminate = castFor(templates.terminate, templates.template, instance);
    if (index === 0) {
      for (const body of [build, terminate]) {
        const named = instanceOf(body);
        if (named.uuid !== instance.uuid || named.id !== instance.id) throw new Error(`a templated cast names ${JSON.stringify(named)} instead of ${JSON.stringify(instance)}`);
      }
    }
    await daemon.await(created, instance.uuid, 'build', () => channel.publish('nova', key, build, templates.build.properties));
    // The metadata service's answer means something if it served an instance before: checked once.
    if (index === 0) servedBeforeDelete = await daemon.metadataStatus(instance.uuid, templates.projectId);
    await daemon.await(daemon.log.deleted, instance.uuid, 'delete', () => channel.publish('nova', key, terminate, templates.terminate.properties));
  };
  let next = 0;
  const cyclesUpTo = (end: number): Promise<unknown> =>
    Promise.all(
      Array.from({ length: CYCLES_IN_FLIGHT }, async () => {
        while (next < end) await cycle(next++);
      }),
    );

  const idle = await daemon.reading();
  const readings: Run['checkpoints'] = [];
  let busyMs = 0;
  for (const at of checkpoints) {
    const began = Date.now();
    await cyclesUpTo(at);
    busyMs += Date.now() - began;
    readings.push({ cycles: at, ...(await daemon.reading()) });
    console.error(`spawn-delete (${label}): ${at} cycles, RSS ${readings.at(-1)!.asFoundMiB.toFixed(1)} MiB, ${readings.at(-1)!.collectedMiB.toFixed(1)} MiB after a full GC`);
  }
  const { peakMiB } = memoryOf(daemon.pid);
  // Before the metadata service is asked about deleted instances: it logs each at ERROR, as Nova's does.
  const counts = { ...daemon.log.counts };
  const left = readdirSync(daemon.instancesPath).filter((name) => name !== '_base');
  let served = 0;
  for (const uuid of uuids) if ((await daemon.metadataStatus(uuid, templates.projectId)) !== 404) served++;
  const queues = await queueCounts(vhost.name);
  const dead = queues.get(DEAD_LETTER_QUEUE)?.ready ?? 0;
  const hostQueue = queues.get(key);
  await channel.close();
  return {
    label,
    idle,
    checkpoints: readings,
    peakMiB,
    cyclesPerSecond: (total * 1000) / busyMs,
    checks: [
      { what: 'deletes done (`terminate done: acking`)', found: `${counts.terminates} of ${total}`, ok: counts.terminates === total },
      { what: 'builds (`spawning` / `instance spawned: acking`)', found: `${counts.spawning} / ${counts.spawned}`, ok: counts.spawning === total && counts.spawned === total },
      { what: 'deletes that removed a domain (`Instance destroyed successfully.` domain=instance-...)', found: String(counts.destroyedDomains), ok: counts.destroyedDomains === total },
      { what: 'entries under instances_path other than _base', found: left.length === 0 ? 'none' : `${left.length}: ${left.slice(0, 3).join(', ')}`, ok: left.length === 0 },
      { what: 'metadata service: the first instance, before its delete', found: String(servedBeforeDelete), ok: servedBeforeDelete === 200 },
      { what: 'metadata service: instances answered other than 404 after the run', found: `${served} of ${uuids.length}`, ok: served === 0 },
      { what: `messages in ${DEAD_LETTER_QUEUE}`, found: String(dead), ok: dead === 0 },
      { what: 'compute.<host>: ready / unacked', found: `${hostQueue?.ready} / ${hostQueue?.unacked}`, ok: hostQueue?.ready === 0 && hostQueue.unacked === 0 },
      { what: 'daemon log lines at WARNING / ERROR', found: `${counts.warnings} / ${counts.errors}`, ok: counts.warnings === 0 && counts.errors === 0 },
    ],
  };
}

/** The Environment= of systemd/nova-spawnd.service: the daemon as systemd runs it. */
function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(join(PACKAGE_ROOT, 'systemd/nova-spawnd.service'), 'utf8');
  const assignments = [...unit.matchAll(/^Environment=(.*)$/gm)].flatMap((line) => line[1]!.trim().split(/\s+/));
  return Object.fromEntries(assignments.map((assignment) => [assignment.slice(0, assignment.indexOf('=')), assignment.slice(assignment.indexOf('=') + 1)]));
}

/** The last reading after a full GC over the first checkpoint's: that ratio - 1. */
function difference(run: Run): number {
  return run.checkpoints.at(-1)!.collectedMiB / run.checkpoints[0]!.collectedMiB - 1;
}

function render(runs: Run[]): string {
  const mib = (value: number): string => value.toFixed(1);
  const both = (reading: Reading): string => `${mib(reading.asFoundMiB)} / ${mib(reading.collectedMiB)}`;
  const columns = (cell: (run: Run) => string): string => runs.map(cell).join(' | ');
  const [first, last] = [runs[0]!.checkpoints[0]!.cycles, runs[0]!.checkpoints.at(-1)!.cycles].map((n) => n.toLocaleString('en'));
  return [
    `### No leak: spawn + delete cycles through the broker (nova-spawnd run, standalone, test:///default, ${CYCLES_IN_FLIGHT} cycles in flight)`,
    '',
    'Resident size (VmRSS) in MiB, as found after the daemon sat idle / after a full garbage collection of its main thread.',
    '',
    `| daemon RSS, MiB | ${columns((run) => run.label)} |`,
    `|---|${runs.map(() => '---:').join('|')}|`,
    `| idle, before the first cycle | ${columns((run) => both(run.idle))} |`,
    ...runs[0]!.checkpoints.map((c, index) => `| after cycle ${c.cycles.toLocaleString('en')} | ${columns((run) => both(run.checkpoints[index]!))} |`),
    `| peak (VmHWM) | ${columns((run) => mib(run.peakMiB))} |`,
    `| after cycle ${last} / after cycle ${first}, after a full GC | ${columns((run) => `${(1 + difference(run)).toFixed(3)} (${difference(run) >= 0 ? '+' : ''}${(difference(run) * 100).toFixed(1)} %)`)} |`,
    `| difference below ${ALLOWED_DIFFERENCE * 100} % | ${columns((run) => (Math.abs(difference(run)) < ALLOWED_DIFFERENCE ? 'yes' : 'NO'))} |`,
    `| cycles per second | ${columns((run) => run.cyclesPerSecond.toFixed(1))} |`,
    '',
    `| check | ${columns((run) => run.label)} |`,
    `|---|${runs.map(() => '---').join('|')}|`,
    ...runs[0]!.checks.map((check, index) => `| ${check.what} | ${columns((run) => `${run.checks[index]!.found}${run.checks[index]!.ok ? '' : ' (NO)'}`)} |`),
  ].join('\n');
}

export async function benchSpawnDelete(quick: boolean): Promise<string> {
  const checkpoints = quick ? [100, 1000] : [1000, 2500, 5000, 7500, 10_000];
  const unit = unitEnvironment();
  const variants = [
    { label: `with the unit's ${Object.entries(unit).map(([name, value]) => `${name}=${value}`).join(' ') || 'environment (none)'}`, environment: unit },
    { label: "without it (glibc's defaults)", environment: {} },
  ];
  const vhost = await createVhost('bench-spawn-delete');
  const root = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-bench-spawn-delete-'));
  const client = await connectClient(vhost.url);
  let keep = false;
  try {
    const runs: Run[] = [];
    let templates: Templates | null = null;
    for (const [index, { label, environment }] of variants.entries()) {
      const dir = join(root, String(index));
      mkdirSync(dir);
      const daemon = await Daemon.start(dir, vhost, client, environment);
      try {
        templates ??= await novaCasts(client, vhost);
        runs.push(await cycles(daemon, client, vhost, templates, checkpoints, label));
      } finally {
        await daemon.stop();
      }
    }
    const table = render(runs);
    if (runs.some((run) => run.checks.some((check) => !check.ok))) throw new Error(`${table}\n\na check failed`);
    return table;
  } catch (error) {
    keep = true;
    console.error(`spawn-delete: the daemons' logs and instances_path are kept under ${root}`);
    throw error;
  } finally {
    await client.close();
    await vhost.remove();
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}
