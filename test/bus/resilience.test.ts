/**
 * At-least-once, exactly one guest: a stream of spawns survives a broker restart (the daemon reconnects,
 * redeclares and resumes) and a kill -9 of the daemon itself (the broker redelivers what was not acked,
 * and the restarted daemon finishes it). Both on a RabbitMQ node of this test's own, with quorum queues
 * (durable: oslo's default classic queues are not, and a broker restart would drop what they hold, for
 * nova-compute as for us). The kill tests run the real `nova-spawnd run` on qemu:///system, whose domains
 * outlive the daemon; each is a tiny diskless-boot guest that idles in SeaBIOS under TCG. One kills it ten
 * times, at moments when libvirt is still starting a guest the killed daemon asked for: 4 of 10 rounds
 * dead-lettered spawns of running guests before start() took "already running" as done.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Spawner } from '../../src/compute/spawner.js';
import { SpawnDaemon } from '../../src/bus/spawn-daemon.js';
import { getLogger, setLogSink } from '../../src/log.js';
import { LibvirtConnection } from '../../src/virt/connection.js';
import { ensureLibvirtd, SYSTEM_URI, virsh } from '../e2e/libvirtd.js';
import { busOptions, daemonSections, renderIni, type Sections } from './helpers/config.js';
import { prepareInstancesPath, standaloneCompute, testCompute, type TestCompute } from './helpers/compute.js';
import { DaemonProcess } from './helpers/daemon-process.js';
import { castBody, newInstance, novaCastTemplate, type CastTemplate, type TestInstance } from './helpers/messages.js';
import { notificationsFor, observeQueue } from './helpers/observe.js';
import { connectClient, eventually, PrivateRabbit } from './helpers/rabbit.js';

let broker: PrivateRabbit;
let cast: CastTemplate;

beforeAll(async () => {
  [broker, cast] = await Promise.all([PrivateRabbit.start('resilience'), novaCastTemplate('6.0')]);
}, 90_000);

afterAll(async () => {
  await broker?.destroy();
});

/** A conductor of sorts: publishes casts with confirms on a connection of its own. */
async function publisher(): Promise<{ client: ChannelModel; channel: ConfirmChannel }> {
  const client = await connectClient(broker.url);
  client.on('error', () => undefined);
  const channel = await client.createConfirmChannel();
  channel.on('error', () => undefined);
  return { client, channel };
}

async function publishCasts(host: string, instances: TestInstance[], edit?: Parameters<typeof castBody>[2]): Promise<void> {
  const { client, channel } = await publisher();
  for (const instance of instances) channel.publish('nova', `compute.${host}`, castBody(cast, instance, edit), cast.properties);
  await channel.waitForConfirms();
  await client.close();
}

async function queueSettled(queue: string): Promise<true> {
  return eventually(`${queue} drained and acked`, async () => {
    const counts = (await broker.queueCounts()).get(queue);
    return counts && counts.ready === 0 && counts.unacked === 0 ? true : undefined;
  }, 60_000, 250);
}

describe('a broker restart in the middle of a stream', () => {
  const HOST = 'compute-restart';
  let compute: TestCompute;
  let daemon: SpawnDaemon;
  const calls = new Map<string, number>();
  const logLines: string[] = [];
  /**
   * The first spawns pass; every later one waits at the gate until the test opens it, so builds are surely
   * in flight when the broker goes down, however fast or slow this machine is.
   */
  const PASS_FIRST = 3;
  let passed = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let waitingAtGate = 0;

  beforeAll(async () => {
    setLogSink((line) => void logLines.push(line));
    compute = await testCompute();
    const spawner: Spawner = {
      spawn: async (request) => {
        calls.set(request.instance.uuid, (calls.get(request.instance.uuid) ?? 0) + 1);
        if (++passed > PASS_FIRST) {
          waitingAtGate++;
          await gate;
          waitingAtGate--;
        }
        return compute.spawner.spawn(request);
      },
    };
    const sections = daemonSections(HOST, broker.url, { oslo_messaging_rabbit: { rabbit_quorum_queue: 'true', heartbeat_timeout_threshold: '4' } });
    daemon = new SpawnDaemon({ bus: busOptions(sections), reconnect: { initialMs: 200, maxMs: 1000, jitter: 0.2 } }, { compute: standaloneCompute(spawner, compute.driver), log: getLogger('test.restart') });
    daemon.start();
    await daemon.ready();
  }, 30_000);

  afterAll(async () => {
    await daemon?.stop(10_000);
    await compute?.close();
    setLogSink((line) => void process.stderr.write(line));
  });

  test('the daemon reconnects, redeclares, and every spawn ends with one running domain and one spawn', async () => {
    const before = Array.from({ length: 16 }, newInstance);
    const after = Array.from({ length: 8 }, newInstance);
    await publishCasts(HOST, before);
    // Some done, some in flight, some still queued when the broker goes down.
    await eventually('a few spawns done', async () => {
      const states = await Promise.all(before.map((i) => compute.connection.lookupByUuid(i.uuid)));
      return states.filter((s) => s?.state === 'running').length >= PASS_FIRST ? true : undefined;
    });
    await eventually('builds in flight', () => (waitingAtGate > 0 ? true : undefined));
    await broker.shutdown();
    // They finish while there is no connection to ack on: the broker must deliver them again.
    open();
    await broker.boot();
    await publishCasts(HOST, after);

    for (const instance of [...before, ...after]) {
      await eventually(`instance ${instance.uuid} running`, async () => ((await compute.connection.lookupByUuid(instance.uuid))?.state === 'running' ? true : undefined), 60_000);
    }
    await queueSettled(`compute.${HOST}`);
    // In-flight work was redelivered after the restart, recognised, and not spawned a second time.
    expect([...before, ...after].map((i) => calls.get(i.uuid))).toEqual([...before, ...after].map(() => 1));
    expect(logLines.some((line) => /connection to 127\.0\.0\.1:\d+ lost/.test(line))).toBe(true);
    expect(logLines.some((line) => /connected to 127\.0\.0\.1:\d+ .*generation=2/.test(line))).toBe(true);
    expect(logLines.filter((line) => line.includes('duplicate delivery of a message already handled')).length).toBeGreaterThan(0);
  }, 120_000);
});

test('a cluster URL whose first host is down: the next host is tried, over TLS verified with ssl_ca_file', async () => {
  const HOST = 'compute-tls';
  const logLines: string[] = [];
  setLogSink((line) => void logLines.push(line));
  const compute = await testCompute();
  // Nothing listens on port 1 (privileged, and closed here): the first host of the cluster refuses.
  const url = `rabbit://guest:guest@127.0.0.1:1,guest:guest@127.0.0.1:${broker.tlsPort}/`;
  const sections = daemonSections(HOST, url, { oslo_messaging_rabbit: { ssl: 'true', ssl_ca_file: broker.caFile, rabbit_quorum_queue: 'true' } });
  const daemon = new SpawnDaemon({ bus: busOptions(sections), reconnect: { initialMs: 100, maxMs: 500, jitter: 0.2 } }, { compute: standaloneCompute(compute.spawner, compute.driver), log: getLogger('test.tls') });
  try {
    daemon.start();
    await daemon.ready();
    expect(logLines.some((line) => line.includes('cannot connect to 127.0.0.1:1:'))).toBe(true);
    expect(logLines.some((line) => line.includes(`connected to 127.0.0.1:${broker.tlsPort}`))).toBe(true);
    const connections = await broker.connections();
    expect(connections).toContainEqual({ name: `nova-spawnd:${HOST}`, ssl: true });
    const instance = newInstance();
    await publishCasts(HOST, [instance]);
    await eventually('the spawn over TLS', async () => ((await compute.connection.lookupByUuid(instance.uuid))?.state === 'running' ? true : undefined));

    // The certificate is checked: against the system's CAs, which never signed it, the broker is refused.
    const distrusting = new SpawnDaemon(
      { bus: busOptions(daemonSections('compute-tls-2', url, { oslo_messaging_rabbit: { ssl: 'true', ssl_ca_file: '/etc/ssl/certs/ca-certificates.crt' } })) },
      { compute: standaloneCompute(compute.spawner, compute.driver), log: getLogger('test.tls.distrusting') },
    );
    distrusting.start();
    try {
      await eventually('the certificate refused', () => (logLines.some((line) => /test\.tls\.distrusting\.rpc \[[^\]]*\] cannot connect to 127\.0\.0\.1:/.test(line) && line.includes(`:${broker.tlsPort}`) && /certificate/i.test(line)) ? true : undefined));
    } finally {
      await distrusting.stop(1_000);
    }
  } finally {
    await daemon.stop(5_000);
    await compute.close();
    setLogSink((line) => void process.stderr.write(line));
  }
}, 60_000);

test('a broker that stops answering is noticed through missed heartbeats, and the daemon reconnects once it answers', async () => {
  const HOST = 'compute-heartbeat';
  const logLines: string[] = [];
  setLogSink((line) => void logLines.push(line));
  const compute = await testCompute();
  const sections = daemonSections(HOST, broker.url, { oslo_messaging_rabbit: { rabbit_quorum_queue: 'true', heartbeat_timeout_threshold: '2' } });
  const daemon = new SpawnDaemon(
    { bus: busOptions(sections), reconnect: { initialMs: 200, maxMs: 1000, jitter: 0.2 }, connectTimeoutMs: 2000 },
    { compute: standaloneCompute(compute.spawner, compute.driver), log: getLogger('test.heartbeat') },
  );
  try {
    daemon.start();
    await daemon.ready();
    broker.freeze();
    try {
      // The socket stays open: only the heartbeats tell that the broker is gone.
      await eventually('the lost connection noticed', () => (logLines.some((line) => /test\.heartbeat\.rpc \[[^\]]*\] connection to .* lost: Heartbeat timeout/.test(line)) ? true : undefined), 20_000);
    } finally {
      broker.thaw();
    }
    await eventually('the reconnection', () => (logLines.some((line) => /test\.heartbeat\.rpc \[[^\]]*\] connected to .*generation=2/.test(line)) ? true : undefined), 30_000);
    const instance = newInstance();
    await publishCasts(HOST, [instance]);
    await eventually('the spawn after reconnecting', async () => ((await compute.connection.lookupByUuid(instance.uuid))?.state === 'running' ? true : undefined));
  } finally {
    await daemon.stop(5_000);
    await compute.close();
    setLogSink((line) => void process.stderr.write(line));
  }
}, 90_000);

describe('kill -9 of the daemon in the middle of a stream', () => {
  let root: string;
  let instancesPath: string;
  let libvirt: LibvirtConnection;
  const daemons: DaemonProcess[] = [];
  /** Every instance cast here: their domains are removed after the tests. */
  const spawned: TestInstance[] = [];

  beforeAll(async () => {
    await ensureLibvirtd();
    ({ root, instancesPath } = prepareInstancesPath());
    libvirt = new LibvirtConnection(SYSTEM_URI);
  }, 600_000);

  afterAll(async () => {
    for (const daemon of daemons) await daemon.kill();
    for (const instance of spawned) await removeDomain(instance).catch(() => undefined);
    await libvirt?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  /** nova.conf for `nova-spawnd run` as `host` on qemu:///system; `DEFAULT` adds or overrides options. */
  function daemonConfig(host: string, DEFAULT: Record<string, string>): { configFile: string; sections: Sections } {
    const sections = daemonSections(host, broker.url, {
      DEFAULT: { instances_path: instancesPath, debug: 'false', ...DEFAULT },
      libvirt: { virt_type: 'qemu', connection_uri: SYSTEM_URI },
      oslo_messaging_rabbit: { rabbit_quorum_queue: 'true' },
    });
    const configFile = join(root, `${host}.conf`);
    writeFileSync(configFile, renderIni(sections));
    return { configFile, sections };
  }

  async function startDaemon(configFile: string): Promise<DaemonProcess> {
    const daemon = DaemonProcess.start(configFile);
    daemons.push(daemon);
    await daemon.waitForLog(/consuming compute, compute\./);
    return daemon;
  }

  async function killDaemon(daemon: DaemonProcess): Promise<void> {
    daemon.signal('SIGKILL');
    expect((await daemon.exited).signal).toBe('SIGKILL');
  }

  /** Tiny guests (32 MiB, idling in SeaBIOS): cheap enough to start many under TCG. */
  async function castTinyGuests(host: string, instances: TestInstance[]): Promise<void> {
    spawned.push(...instances);
    await publishCasts(host, instances, (_inner, data) => {
      ((data['flavor'] as Record<string, Record<string, unknown>>)['nova_object.data']!)['memory_mb'] = 32;
    });
  }

  async function domainsOf(instances: TestInstance[]): Promise<Map<string, { name: string; state: string } | null>> {
    const found = await Promise.all(instances.map(async (i) => [i.uuid, await libvirt.lookupByUuid(i.uuid)] as const));
    return new Map(found);
  }

  async function runningCount(instances: TestInstance[]): Promise<number> {
    return [...(await domainsOf(instances)).values()].filter((d) => d?.state === 'running').length;
  }

  async function allRunning(instances: TestInstance[]): Promise<true> {
    return eventually('every instance running', async () => ((await runningCount(instances)) === instances.length ? true : undefined), 180_000, 250);
  }

  const domainName = (instance: TestInstance): string => `instance-${instance.id.toString(16).padStart(8, '0')}`;

  /** One domain per instance uuid, running, named after its instance id: no duplicate and none missing. */
  async function expectOneRunningDomainEach(instances: TestInstance[]): Promise<void> {
    const domains = await domainsOf(instances);
    expect([...domains.entries()].map(([uuid, d]) => [uuid, d?.name, d?.state])).toEqual(instances.map((i) => [i.uuid, domainName(i), 'running']));
    const names = new Set(instances.map(domainName));
    const listed = (await virsh('list', '--all', '--name')).split('\n').map((line) => line.trim()).filter((name) => names.has(name));
    expect(listed).toHaveLength(instances.length);
  }

  async function removeDomain(instance: TestInstance): Promise<void> {
    const status = await libvirt.lookupByUuid(instance.uuid);
    if (status?.state === 'running') await libvirt.destroy(status.name);
    if (status) await libvirt.undefine(status.name);
  }

  test('after a restart every spawn ends with exactly one running domain, none lost; SIGHUP re-reads the logging options; SIGTERM exits 0', async () => {
    const HOST = 'compute-kill';
    const COUNT = 8;
    const instances = Array.from({ length: COUNT }, newInstance);
    const { configFile, sections } = daemonConfig(HOST, { max_concurrent_builds: '2' });
    const first = await startDaemon(configFile);
    await castTinyGuests(HOST, instances);
    await eventually('two guests started by the first daemon', async () => ((await runningCount(instances)) >= 2 ? true : undefined), 120_000, 50);
    await killDaemon(first);
    expect(await runningCount(instances)).toBeLessThan(COUNT);

    const second = await startDaemon(configFile);
    await allRunning(instances);
    await queueSettled(`compute.${HOST}`);
    await expectOneRunningDomainEach(instances);
    // What the first daemon had not acked was spawned or recognised by the second.
    expect(second.log).toMatch(/instance (spawned|resumed|already-running): acking/);

    writeFileSync(configFile, renderIni({ ...sections, DEFAULT: { ...sections['DEFAULT'], debug: 'true' } }));
    second.signal('SIGHUP');
    await second.waitForLog(/SIGHUP: logging options re-read, log file reopened debug=true/);

    second.signal('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(second.log).toMatch(/received SIGTERM: no new builds/);
    expect(second.log).toMatch(/INFO nova_spawnd \[-\] stopped/);
  }, 400_000);

  test('killed at ten moments of a stream of spawns in flight: each ends as one running domain, none dead-lettered, no error notification', async () => {
    // libvirt may still be starting a guest the killed daemon asked for when the redelivered spawn looks it
    // up (shut off) and starts it again (already running): that spawn must succeed, not put a running guest in ERROR.
    const HOST = 'compute-kill-rounds';
    const ROUNDS = 10;
    const IN_FLIGHT = 8;
    const { configFile } = daemonConfig(HOST, { max_concurrent_builds: String(IN_FLIGHT) });
    let daemon = await startDaemon(configFile);
    const observer = await connectClient(broker.url);
    try {
      const channel = await observer.createChannel();
      const [errors, dead] = await Promise.all([observeQueue(channel, 'versioned_notifications.error'), observeQueue(channel, 'nova-spawnd.dead')]);
      const failuresOf = (instances: TestInstance[]) => ({
        deadLettered: instances.filter((i) => dead.some((letter) => letter.body.toString().includes(i.uuid))).map((i) => i.uuid),
        errorNotifications: instances.flatMap((i) => notificationsFor(errors, i.uuid)).map((n) => n.event_type),
      });
      const all: TestInstance[] = [];
      const restarted: DaemonProcess[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const instances = Array.from({ length: IN_FLIGHT }, newInstance);
        all.push(...instances);
        await castTinyGuests(HOST, instances);
        // A moment of its own each round: once 0, 1, 2, ... 6 of the round's guests run and another is defined
        // but not running, most likely being started (the race's window); or, should that be missed, once all run.
        const killAt = Math.floor((round * (IN_FLIGHT - 1)) / ROUNDS);
        await eventually(`${killAt} guests running and another one starting`, async () => {
          const states = [...(await domainsOf(instances)).values()].map((domain) => domain?.state);
          const running = states.filter((state) => state === 'running').length;
          return running === IN_FLIGHT || (running >= killAt && states.some((state) => state !== undefined && state !== 'running')) ? true : undefined;
        }, 120_000, 50);
        await killDaemon(daemon);
        daemon = await startDaemon(configFile);
        restarted.push(daemon);
        await allRunning(instances);
        await queueSettled(`compute.${HOST}`);
        await expectOneRunningDomainEach(instances);
        expect({ round, killAt, ...failuresOf(instances) }).toEqual({ round, killAt, deadLettered: [], errorNotifications: [] });
        // Only a round's worth of guests at a time on this machine.
        await Promise.all(instances.map(removeDomain));
      }
      daemon.signal('SIGTERM');
      expect(await daemon.exited).toEqual({ code: 0, signal: null });
      // Nothing arrived late either.
      expect(failuresOf(all)).toEqual({ deadLettered: [], errorNotifications: [] });
      // The kills did leave domains defined but not yet running (or starting) to the redelivered spawns.
      expect(restarted.map((d) => d.log).join('')).toMatch(/domain exists but is shut off: finishing its spawn/);
    } finally {
      await observer.close();
    }
  }, 300_000);
});
