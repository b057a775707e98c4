/**
 * At-least-once, exactly one guest: a stream of spawns survives a broker restart (the daemon reconnects,
 * redeclares and resumes) and a kill -9 of the daemon itself (the broker redelivers what was not acked,
 * and the restarted daemon finishes it). Both on a RabbitMQ node of this test's own, with quorum queues
 * (durable: oslo's default classic queues are not, and a broker restart would drop what they hold, for
 * nova-compute as for us). The kill test runs the real `nova-spawnd run` on qemu:///system, whose domains
 * outlive the daemon; each is a tiny diskless-boot guest that idles in SeaBIOS under TCG.
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
import { prepareInstancesPath, testCompute, type TestCompute } from './helpers/compute.js';
import { DaemonProcess } from './helpers/daemon-process.js';
import { castBody, newInstance, novaCastTemplate, type CastTemplate, type TestInstance } from './helpers/messages.js';
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
    daemon = new SpawnDaemon({ bus: busOptions(sections), reconnect: { initialMs: 200, maxMs: 1000, jitter: 0.2 } }, { spawner, log: getLogger('test.restart') });
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
  const daemon = new SpawnDaemon({ bus: busOptions(sections), reconnect: { initialMs: 100, maxMs: 500, jitter: 0.2 } }, { spawner: compute.spawner, log: getLogger('test.tls') });
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
      { spawner: compute.spawner, log: getLogger('test.tls.distrusting') },
    );
    distrusting.start();
    try {
      await eventually('the certificate refused', () => (logLines.some((line) => line.includes('test.tls.distrusting.rpc cannot connect to 127.0.0.1:' + broker.tlsPort) && /certificate/i.test(line)) ? true : undefined));
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
    { spawner: compute.spawner, log: getLogger('test.heartbeat') },
  );
  try {
    daemon.start();
    await daemon.ready();
    broker.freeze();
    try {
      // The socket stays open: only the heartbeats tell that the broker is gone.
      await eventually('the lost connection noticed', () => (logLines.some((line) => /test\.heartbeat\.rpc connection to .* lost: Heartbeat timeout/.test(line)) ? true : undefined), 20_000);
    } finally {
      broker.thaw();
    }
    await eventually('the reconnection', () => (logLines.some((line) => /test\.heartbeat\.rpc connected to .*generation=2/.test(line)) ? true : undefined), 30_000);
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
  const HOST = 'compute-kill';
  const COUNT = 8;
  let root: string;
  let configFile: string;
  let sections: Sections;
  let libvirt: LibvirtConnection;
  const daemons: DaemonProcess[] = [];
  const instances = Array.from({ length: COUNT }, newInstance);

  beforeAll(async () => {
    await ensureLibvirtd();
    const prepared = prepareInstancesPath();
    root = prepared.root;
    configFile = join(root, 'nova.conf');
    sections = daemonSections(HOST, broker.url, {
      DEFAULT: { instances_path: prepared.instancesPath, max_concurrent_builds: '2', debug: 'false' },
      libvirt: { virt_type: 'qemu', connection_uri: SYSTEM_URI },
      oslo_messaging_rabbit: { rabbit_quorum_queue: 'true' },
    });
    writeFileSync(configFile, renderIni(sections));
    libvirt = new LibvirtConnection(SYSTEM_URI);
  }, 600_000);

  afterAll(async () => {
    for (const daemon of daemons) await daemon.kill();
    for (const instance of instances) {
      const status = await libvirt.lookupByUuid(instance.uuid).catch(() => null);
      if (status?.state === 'running') await libvirt.destroy(status.name).catch(() => undefined);
      if (status) await libvirt.undefine(status.name).catch(() => undefined);
    }
    await libvirt?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  async function domainsOf(): Promise<Map<string, { name: string; state: string } | null>> {
    const found = await Promise.all(instances.map(async (i) => [i.uuid, await libvirt.lookupByUuid(i.uuid)] as const));
    return new Map(found);
  }

  test('after a restart every spawn ends with exactly one running domain, none lost; SIGHUP re-reads debug; SIGTERM exits 0', async () => {
    const first = DaemonProcess.start(configFile);
    daemons.push(first);
    await first.waitForLog(/consuming compute, compute\.compute-kill/);
    await publishCasts(HOST, instances, (_inner, data) => {
      ((data['flavor'] as Record<string, Record<string, unknown>>)['nova_object.data']!)['memory_mb'] = 32;
    });
    await eventually('two guests started by the first daemon', async () => ([...(await domainsOf()).values()].filter((d) => d?.state === 'running').length >= 2 ? true : undefined), 120_000, 50);
    first.signal('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const runningAtKill = [...(await domainsOf()).values()].filter((d) => d?.state === 'running').length;
    expect(runningAtKill).toBeLessThan(COUNT);

    const second = DaemonProcess.start(configFile);
    daemons.push(second);
    await second.waitForLog(/consuming compute/);
    await eventually('every instance running', async () => ([...(await domainsOf()).values()].every((d) => d?.state === 'running') ? true : undefined), 180_000, 250);
    await queueSettled(`compute.${HOST}`);

    // One domain per instance uuid, each named after its instance id: no duplicate and none missing.
    const domains = await domainsOf();
    expect([...domains.entries()].map(([uuid, d]) => [uuid, d?.name, d?.state])).toEqual(
      instances.map((i) => [i.uuid, `instance-${i.id.toString(16).padStart(8, '0')}`, 'running']),
    );
    const listed = (await virsh('list', '--all', '--name')).split('\n').map((line) => line.trim()).filter((name) => instances.some((i) => name === `instance-${i.id.toString(16).padStart(8, '0')}`));
    expect(listed).toHaveLength(COUNT);
    // What the first daemon had not acked was spawned or recognised by the second.
    expect(second.log).toMatch(/instance (spawned|resumed|already-running): acking/);

    writeFileSync(configFile, renderIni({ ...sections, DEFAULT: { ...sections['DEFAULT'], debug: 'true' } }));
    second.signal('SIGHUP');
    await second.waitForLog(/SIGHUP: log level re-read debug=true/);

    second.signal('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(second.log).toMatch(/received SIGTERM: no new builds/);
    expect(second.log).toMatch(/INFO nova_spawnd stopped/);
  }, 400_000);
});
