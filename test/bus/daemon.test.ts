/**
 * The daemon against the real RabbitMQ (a virtual host of its own on the shared broker) and the real spawn
 * pipeline on libvirt's test:///default: what a conductor's cast turns into, what a bad message turns into,
 * and what a duplicate or a transient failure does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Channel, ChannelModel } from 'amqplib';
import { OperationStopped } from '../../src/compute/instance-bookkeeping.js';
import { OperationFailed } from '../../src/compute/operation-failed.js';
import type { Spawner } from '../../src/compute/spawner.js';
import { SpawnDaemon } from '../../src/bus/spawn-daemon.js';
import { DEAD_LETTER_HEADER } from '../../src/bus/rejection.js';
import { getLogger, setDebug, setLogSink } from '../../src/log.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { parseDomain } from '../virt/parse-domain.js';
import { busOptions, daemonSections } from './helpers/config.js';
import { MISSING_IMAGE_ID, standaloneCompute, testCompute, type TestCompute } from './helpers/compute.js';
import { castBody, envelope, JSON_PROPERTIES, newInstance, novaCastTemplate, plainBody, type CastTemplate, type TestInstance } from './helpers/messages.js';
import { notificationsFor, observeQueue, unwrap, type Observed } from './helpers/observe.js';
import { connectClient, createVhost, eventually, queueCounts, type TestVhost } from './helpers/rabbit.js';
import { isAbout } from '../helpers/log-lines.js';

const HOST = 'compute-bus-test';
const QUEUE = `compute.${HOST}`;

let vhost: TestVhost;
let compute: TestCompute;
let daemon: SpawnDaemon;
let client: ChannelModel;
let channel: Channel;
let cast6: CastTemplate;
let cast5: CastTemplate;
let info: Observed[];
let errors: Observed[];
let dead: Observed[];
const logLines: string[] = [];
/** Every request the spawn pipeline was handed, by instance uuid. */
const spawnCalls = new Map<string, number>();
/** Instances whose next attempts fail as if libvirtd were unreachable, and how many. */
const injectedFailures = new Map<string, number>();
/** Instances whose build stops as if the user had deleted them meanwhile. */
const deletedMeanwhile = new Set<string>();

beforeAll(async () => {
  setLogSink((line) => void logLines.push(line));
  setDebug(true);
  [vhost, compute, cast6, cast5] = await Promise.all([createVhost('daemon'), testCompute(), novaCastTemplate('6.0'), novaCastTemplate('5.0')]);
  daemon = new SpawnDaemon(
    { bus: busOptions(daemonSections(HOST, vhost.url)) },
    { compute: standaloneCompute(injectingSpawner(), compute.driver, { retry: { maxAttempts: 3, backoff: { initialMs: 50, maxMs: 200, jitter: 0.2 } } }), log: getLogger('test.daemon') },
  );
  daemon.start();
  await daemon.ready();
  client = await connectClient(vhost.url);
  channel = await client.createChannel();
  [info, errors, dead] = await Promise.all([
    observeQueue(channel, 'versioned_notifications.info'),
    observeQueue(channel, 'versioned_notifications.error'),
    observeQueue(channel, 'nova-spawnd.dead'),
  ]);
}, 60_000);

afterAll(async () => {
  await daemon?.stop(10_000);
  await client?.close().catch(() => undefined);
  await compute?.close();
  await vhost?.remove();
  setLogSink((line) => void process.stderr.write(line));
});

/** The real pipeline, counting its calls and failing as injectedFailures says. */
function injectingSpawner(): Spawner {
  return {
    spawn: (request: SpawnRequest) => {
      const { uuid } = request.instance;
      spawnCalls.set(uuid, (spawnCalls.get(uuid) ?? 0) + 1);
      if (deletedMeanwhile.has(uuid)) return Promise.reject(new OperationStopped(uuid, 'build', 'the instance was deleted (UnexpectedDeletingTaskStateError at Instance.save)', true));
      const failures = injectedFailures.get(uuid) ?? 0;
      if (failures > 0) {
        injectedFailures.set(uuid, failures - 1);
        return Promise.reject(new OperationFailed(uuid, 'define', true, 'LibvirtUnavailable: Failed to connect socket (injected)'));
      }
      return compute.spawner.spawn(request);
    },
  };
}

function publish(body: Buffer, properties = JSON_PROPERTIES, routingKey = QUEUE): void {
  channel.publish('nova', routingKey, body, properties);
}

async function runningDomain(uuid: string): Promise<string> {
  return eventually(`instance ${uuid} running`, async () => {
    const status = await compute.connection.lookupByUuid(uuid);
    return status?.state === 'running' ? status.name : undefined;
  });
}

function deadLetterOf(body: Buffer): Promise<Observed> {
  return eventually('a dead letter', () => dead.find((message) => message.body.equals(body)));
}

/** The queues are drained and nothing is left unacknowledged. */
async function allAcked(): Promise<void> {
  await eventually('every message acked', async () => {
    const counts = await queueCounts(vhost.name);
    const busy = [...counts].filter(([name, count]) => (name === QUEUE || name === 'compute') && (count.ready > 0 || count.unacked > 0));
    return busy.length === 0 ? true : undefined;
  });
}

test('a cast to compute.<host> spawns a running guest, is acked, and is announced by start and end notifications', async () => {
  const instance = newInstance();
  const body = castBody(cast6, instance);
  const requestId = unwrap(body)['_context_request_id'] as string;
  publish(body, cast6.properties);

  const domain = await runningDomain(instance.uuid);
  await eventually('instance.create.end', () => (notificationsFor(info, instance.uuid).length === 2 ? true : undefined));
  await allAcked();

  const [start, end] = notificationsFor(info, instance.uuid);
  expect(start).toMatchObject({ event_type: 'instance.create.start', priority: 'INFO', publisher_id: `nova-compute:${HOST}` });
  expect(end).toMatchObject({ event_type: 'instance.create.end', priority: 'INFO', publisher_id: `nova-compute:${HOST}` });
  expect(end!.payload).toMatchObject({ 'nova_object.name': 'InstanceCreatePayload', 'nova_object.version': '1.12', 'nova_object.namespace': 'nova' });
  expect(end!.payload['nova_object.data']).toMatchObject({ uuid: instance.uuid, state: 'active', power_state: 'running', instance_name: domain, request_id: requestId, host: HOST });
  expect(start!.payload['nova_object.data']).toMatchObject({ state: 'building', power_state: 'pending', launched_at: null });
  expect(end!['_context_request_id']).toBe(requestId);
  // oslo's notifier never forwards the caller's token.
  expect(end!['_context_auth_token']).toBeUndefined();
  expect(spawnCalls.get(instance.uuid)).toBe(1);
  // The request's id in oslo's context brackets, as nova-compute's lines have it.
  expect(logLines.filter((line) => isAbout(line, instance.uuid) && line.includes(` ${requestId} `)).join('')).toMatch(/instance spawned: acking/);
});

test('RPC 5.0 casts and plain requests spawn too', async () => {
  const [old, plain] = [newInstance(), newInstance()];
  publish(castBody(cast5, old), cast5.properties);
  publish(plainBody(plain));
  await Promise.all([runningDomain(old.uuid), runningDomain(plain.uuid)]);
  expect(unwrap(castBody(cast5, old))['version']).toBe('5.0');
  await eventually('end notifications', () => (notificationsFor(info, plain.uuid).length === 2 && notificationsFor(info, old.uuid).length === 2 ? true : undefined));
  await allAcked();
});

interface BadMessage {
  kind: string;
  body: Buffer;
  properties?: typeof JSON_PROPERTIES;
  reason: string;
  field?: string;
  /** Set when the message names a well-formed instance uuid. */
  instance?: TestInstance;
  /** Whether an instance.create.error is expected: for a spawn request that names its instance. */
  notifies?: boolean;
}

function badMessages(): BadMessage[] {
  const known = (): TestInstance => newInstance();
  const withInstance = (kind: string, reason: string, field: string | undefined, edit: Parameters<typeof castBody>[2], notifies = true): BadMessage => {
    const instance = known();
    return { kind, reason, ...(field ? { field } : {}), instance, notifies, body: castBody(cast6, instance, edit) };
  };
  return [
    { kind: 'not JSON', body: Buffer.from('build_and_run_instance please'), reason: 'malformed-message', field: 'body' },
    { kind: 'binary junk', body: Buffer.from([0xff, 0xfe, 0x00, 0x81, 0xc3, 0x28, 0x9f]), reason: 'malformed-message', field: 'body' },
    { kind: 'empty body', body: Buffer.alloc(0), reason: 'malformed-message', field: 'body' },
    { kind: 'a JSON array', body: Buffer.from('[1, 2, 3]'), reason: 'malformed-message', field: 'body' },
    { kind: 'missing oslo.message', body: Buffer.from(JSON.stringify({ 'oslo.version': '2.0' })), reason: 'malformed-message', field: 'oslo.message' },
    { kind: 'oslo.message not JSON', body: Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{"method": ' })), reason: 'malformed-message', field: 'oslo.message' },
    { kind: 'unknown envelope version', body: Buffer.from(JSON.stringify({ 'oslo.version': '3.0', 'oslo.message': '{}' })), reason: 'malformed-message', field: 'oslo.version' },
    { kind: 'wrong content type', body: castBody(cast6, known()), properties: { ...JSON_PROPERTIES, contentType: 'text/plain' }, reason: 'malformed-message', field: 'content_type' },
    { kind: 'huge message', body: envelope({ method: 'build_and_run_instance', padding: 'x'.repeat(5 * 1024 * 1024) }), reason: 'message-too-large', field: 'body' },
    // Another method's instance may be running: no instance.create.error for it.
    withInstance('unknown method', 'unsupported-method', 'method', (inner) => void (inner['method'] = 'pause_instance'), false),
    withInstance('unknown version', 'unsupported-version', 'version', (inner) => void (inner['version'] = '7.0')),
    { kind: 'missing instance', body: castBody(cast6, known(), (inner) => void delete (inner['args'] as Record<string, unknown>)['instance']), reason: 'invalid-request', field: 'instance' },
    { kind: 'bad uuid', body: castBody(cast6, known(), (_inner, data) => void (data['uuid'] = '../../etc/passwd')), reason: 'invalid-request', field: 'instance.uuid' },
    withInstance('path traversal in an injected file', 'invalid-request', 'injected_files[0].path', (inner) => {
      (inner['args'] as Record<string, unknown>)['injected_files'] = [['/etc/../../root/.ssh/authorized_keys', Buffer.from('ssh-rsa AAAA').toString('base64')]];
    }),
    withInstance('oversized user_data', 'invalid-request', 'instance.user_data', (_inner, data) => void (data['user_data'] = 'QUFB'.repeat(17_000))),
    withInstance('a flavor with zero memory', 'invalid-request', 'instance.flavor.memory_mb', (_inner, data) => {
      ((data['flavor'] as Record<string, Record<string, unknown>>)['nova_object.data']!)['memory_mb'] = 0;
    }),
    withInstance('an image neither cached nor downloadable', 'spawn-failed', undefined, (_inner, data) => void (data['image_ref'] = MISSING_IMAGE_ID)),
    (() => {
      const instance = known();
      return { kind: 'a plain request without a flavor', instance, notifies: true, body: plainBody(instance, {}, (plain) => void delete plain['flavor']), reason: 'invalid-request', field: 'flavor' };
    })(),
  ];
}

test('bad messages end in the dead-letter queue with their reason, while good ones around them spawn', async () => {
  const bad = badMessages();
  expect(bad.length).toBeGreaterThanOrEqual(15);
  const good: TestInstance[] = [];
  for (const message of bad) {
    const instance = newInstance();
    good.push(instance);
    publish(castBody(cast6, instance), cast6.properties);
    publish(message.body, message.properties ?? JSON_PROPERTIES);
  }
  // Not bad: a name full of XML metacharacters spawns, escaped in the domain XML.
  const xmlName = newInstance();
  const evil = `<domain type="kvm"> & ]]> '\u00e9vil'`;
  publish(castBody(cast6, xmlName, (_inner, data) => void (data['display_name'] = evil)), cast6.properties);

  for (const message of bad) {
    const letter = await deadLetterOf(message.body);
    expect({ kind: message.kind, reason: letter.headers[DEAD_LETTER_HEADER.reason], field: letter.headers[DEAD_LETTER_HEADER.field] }).toEqual({
      kind: message.kind,
      reason: message.reason,
      field: message.field,
    });
    expect(letter.headers[DEAD_LETTER_HEADER.instanceUuid]).toBe(message.instance?.uuid);
    expect(letter.headers[DEAD_LETTER_HEADER.detail]).toEqual(expect.any(String));
    expect(letter.headers[DEAD_LETTER_HEADER.originalRoutingKey]).toBe(QUEUE);
    expect(letter.headers[DEAD_LETTER_HEADER.host]).toBe(HOST);
  }
  expect(dead).toHaveLength(bad.length);
  for (const instance of [...good, xmlName]) await runningDomain(instance.uuid);

  // An error notification for every bad spawn request that names its instance, and for no other.
  for (const message of bad.filter((m) => m.notifies)) {
    const [error] = await eventually(`instance.create.error for ${message.kind}`, () => {
      const seen = notificationsFor(errors, message.instance!.uuid);
      return seen.length > 0 ? seen : undefined;
    });
    expect(error).toMatchObject({ event_type: 'instance.create.error', priority: 'ERROR', publisher_id: `nova-compute:${HOST}` });
    expect((error!.payload['nova_object.data']['fault'] as Record<string, Record<string, unknown>>)['nova_object.data']).toMatchObject({ exception_message: expect.any(String) });
  }

  // libvirt parsed the name back as the very text sent: it was escaped, not taken for markup.
  const live = await parseDomain(await compute.connection.getXml(await runningDomain(xmlName.uuid)));
  expect(live.text('metadata', 'nova:instance', 'nova:name')).toBe(evil);
  expect(live.all('devices', 'disk').length).toBeGreaterThan(0);
  const written = readFileSync(join(compute.instancesPath, xmlName.uuid, 'libvirt.xml'), 'utf8');
  expect(written).toContain('&lt;domain type=');
  expect(written).not.toContain(evil);
  await allAcked();
  // Every step of every message, notifications included, is done before its ack.
  expect(errors).toHaveLength(bad.filter((m) => m.notifies).length);
  // Each unsupported method is logged as such, naming the method.
  expect(logLines.some((line) => line.includes('unsupported method') && line.includes('pause_instance'))).toBe(true);
}, 120_000);

test('a duplicate delivery is acked without a second spawn: same _unique_id, or another message for a running instance', async () => {
  const instance = newInstance();
  const body = castBody(cast6, instance);
  publish(body, cast6.properties);
  publish(body, cast6.properties);
  await runningDomain(instance.uuid);
  publish(castBody(cast6, instance), cast6.properties);
  await allAcked();
  expect(spawnCalls.get(instance.uuid)).toBe(1);
  // One start and one end: a duplicate announces nothing.
  expect(notificationsFor(info, instance.uuid).map((n) => n.event_type)).toEqual(['instance.create.start', 'instance.create.end']);
  expect(logLines.filter((line) => line.includes(instance.uuid) && line.includes('without a second spawn'))).toHaveLength(2);
});

test('a transient failure is retried with backoff and the spawn completes', async () => {
  const instance = newInstance();
  injectedFailures.set(instance.uuid, 1);
  publish(castBody(cast6, instance), cast6.properties);
  await runningDomain(instance.uuid);
  await allAcked();
  expect(spawnCalls.get(instance.uuid)).toBe(2);
  expect(logLines.some((line) => line.includes(instance.uuid) && /spawn failed transiently, retrying in \d+ ms \(attempt 1 of 3\)/.test(line))).toBe(true);
});

test('a spawn that keeps failing transiently is dead-lettered after the retry limit', async () => {
  const instance = newInstance();
  const body = castBody(cast6, instance);
  injectedFailures.set(instance.uuid, Infinity);
  publish(body, cast6.properties);
  const letter = await deadLetterOf(body);
  expect(letter.headers).toMatchObject({
    [DEAD_LETTER_HEADER.reason]: 'retries-exhausted',
    [DEAD_LETTER_HEADER.attempts]: 3,
    [DEAD_LETTER_HEADER.error]: 'OperationFailed',
    [DEAD_LETTER_HEADER.instanceUuid]: instance.uuid,
  });
  expect(spawnCalls.get(instance.uuid)).toBe(3);
  expect(await compute.connection.lookupByUuid(instance.uuid)).toBeNull();
  await allAcked();
});

test('spawns waiting out a transient failure hold no build slot: with two slots and two of them waiting, a third spawns at once', async () => {
  const slotsHost = 'compute-bus-slots';
  const slotsQueue = `compute.${slotsHost}`;
  const failing = [newInstance(), newInstance()];
  for (const instance of failing) injectedFailures.set(instance.uuid, Infinity);
  // The backoff outlasts the test: the failing spawns are waiting for their second attempt throughout.
  const slotted = new SpawnDaemon(
    {
      bus: busOptions(daemonSections(slotsHost, vhost.url, { DEFAULT: { max_concurrent_builds: '2' } })),
    },
    { compute: standaloneCompute(injectingSpawner(), compute.driver, { maxConcurrentBuilds: 2, retry: { maxAttempts: 3, backoff: { initialMs: 600_000, maxMs: 600_000, jitter: 0 } } }), log: getLogger('test.slots') },
  );
  slotted.start();
  await slotted.ready();
  try {
    for (const instance of failing) publish(castBody(cast6, instance), cast6.properties, slotsQueue);
    await eventually('both failing spawns waiting to retry', () =>
      failing.every((instance) => logLines.some((line) => line.includes(instance.uuid) && line.includes('spawn failed transiently, retrying in 600000 ms')))
        ? true
        : undefined,
    );
    const good = newInstance();
    publish(castBody(cast6, good), cast6.properties, slotsQueue);
    await runningDomain(good.uuid);
    expect(failing.map((instance) => spawnCalls.get(instance.uuid))).toEqual([1, 1]);
  } finally {
    // The waiting spawns are abandoned, unacked, and the queue goes with the virtual host.
    await slotted.stop(10_000);
    for (const instance of failing) injectedFailures.delete(instance.uuid);
  }
});

// Each of these waits on rabbitmqctl's queue counts several times, an Erlang VM boot each: seconds alone,
// tens of seconds on a loaded machine (seen: over 30 s with two cores at load 8).
const STOPPING_TEST_TIMEOUT_MS = 90_000;

describe('stopping', () => {
  const STOP_HOST = 'compute-bus-stop';
  const STOP_QUEUE = `compute.${STOP_HOST}`;
  /** Builds wait here until the test lets them through. */
  let release: () => void = () => undefined;
  let entered = 0;

  function gatedDaemon(): SpawnDaemon {
    const gate = new Promise<void>((resolve) => (release = resolve));
    const spawner: Spawner = {
      spawn: async (request) => {
        entered++;
        await gate;
        return compute.spawner.spawn(request);
      },
    };
    return new SpawnDaemon({ bus: busOptions(daemonSections(STOP_HOST, vhost.url)) }, { compute: standaloneCompute(spawner, compute.driver), log: getLogger('test.stop') });
  }

  async function counts(): Promise<{ ready: number; unacked: number; consumers: number } | undefined> {
    return (await queueCounts(vhost.name)).get(STOP_QUEUE);
  }

  test('stop cancels the consumers, lets the build in flight finish and ack, and leaves later messages queued', async () => {
    const stopping = gatedDaemon();
    stopping.start();
    await stopping.ready();
    const [first, second] = [newInstance(), newInstance()];
    entered = 0;
    publish(castBody(cast6, first), cast6.properties, STOP_QUEUE);
    await eventually('the build to start', () => (entered === 1 ? true : undefined));
    const stopped = stopping.stop(10_000);
    await eventually('no consumer left', async () => ((await counts())?.consumers === 0 ? true : undefined));
    publish(castBody(cast6, second), cast6.properties, STOP_QUEUE);
    release();
    await expect(stopped).resolves.toBe(true);
    expect((await compute.connection.lookupByUuid(first.uuid))?.state).toBe('running');
    expect(await compute.connection.lookupByUuid(second.uuid)).toBeNull();
    await eventually('the first acked, the second waiting', async () => {
      const now = await counts();
      return now?.ready === 1 && now.unacked === 0 ? true : undefined;
    });
    expect(entered).toBe(1);
    // The next daemon for this host gets the message that was left.
    const next = gatedDaemon();
    release();
    next.start();
    await runningDomain(second.uuid);
    await next.stop(10_000);
  }, STOPPING_TEST_TIMEOUT_MS);

  test('a build that outlasts the stop timeout is left unacked, for the broker to deliver again', async () => {
    const stopping = gatedDaemon();
    stopping.start();
    await stopping.ready();
    const instance = newInstance();
    entered = 0;
    publish(castBody(cast6, instance), cast6.properties, STOP_QUEUE);
    await eventually('the build to start', () => (entered === 1 ? true : undefined));
    await expect(stopping.stop(200)).resolves.toBe(false);
    await eventually('the message back in the queue', async () => ((await counts())?.ready === 1 ? true : undefined));
    release();
    const next = gatedDaemon();
    release();
    next.start();
    await runningDomain(instance.uuid);
    // The domain may be the first daemon's build, finishing after its stop: the queue empties only once the
    // next daemon has taken the message and acked it (the first one's channel is closed).
    await eventually('the queue empty', async () => ((await counts())?.ready === 0 && (await counts())?.unacked === 0 ? true : undefined));
    await next.stop(10_000);
  }, STOPPING_TEST_TIMEOUT_MS);
});

test('a build stopped because its instance was deleted meanwhile is acked with instance.create.error, not dead-lettered', async () => {
  const instance = newInstance();
  deletedMeanwhile.add(instance.uuid);
  const body = castBody(cast6, instance);
  publish(body);
  const [error] = await eventually('instance.create.error', () => {
    const seen = notificationsFor(errors, instance.uuid);
    return seen.length > 0 ? seen : undefined;
  });
  expect(error).toMatchObject({ event_type: 'instance.create.error', priority: 'ERROR', publisher_id: `nova-compute:${HOST}` });
  await allAcked();
  const about = logLines.filter((line) => isAbout(line, instance.uuid));
  expect(about.some((line) => line.includes('build stopped, nothing left to do: acking'))).toBe(true);
  expect(about.filter((line) => line.includes('dead-letter'))).toEqual([]);
  expect(dead.filter((message) => message.body.equals(body))).toEqual([]);
});
