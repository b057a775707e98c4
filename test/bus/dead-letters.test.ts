/**
 * The dead-letter queue on the real RabbitMQ: its bound ([nova_spawnd] dead_letter_max_length, x-max-length
 * with reject-publish), the upgrade from the unbounded queue an earlier nova-spawnd declared, and the
 * `nova-spawnd dead-letters list | replay` command (the built CLI, as an operator runs it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { ChannelModel } from 'amqplib';
import { SpawnDaemon } from '../../src/bus/spawn-daemon.js';
import { DEAD_LETTER_HEADER } from '../../src/bus/rejection.js';
import { REPLAY_HEADER } from '../../src/bus/spawn-consumer.js';
import { getLogger, setLogSink } from '../../src/log.js';
import { PrometheusMetrics } from '../../src/metrics/prometheus.js';
import { runCli } from '../cli/run-cli.js';
import { busOptions, daemonSections, writeConfig, type Sections } from './helpers/config.js';
import { standaloneCompute, testCompute, type TestCompute } from './helpers/compute.js';
import { castBody, JSON_PROPERTIES, newInstance, novaCastTemplate, type CastTemplate } from './helpers/messages.js';
import { connectClient, createVhost, eventually, listDeclarations, queueCounts, type TestVhost } from './helpers/rabbit.js';

const HOST = 'compute-dead';
const HOST_QUEUE = `compute.${HOST}`;
const SECRET = 'hunter2-admin-password';

let vhost: TestVhost;
let compute: TestCompute;
let template: CastTemplate;
let client: ChannelModel;
let dir: string;
let sections: Sections;
const lines: string[] = [];

beforeAll(async () => {
  [vhost, compute, template] = await Promise.all([createVhost('dead'), testCompute(), novaCastTemplate()]);
  client = await connectClient(vhost.url);
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-dead-'));
  sections = daemonSections(HOST, vhost.url, { nova_spawnd: { dead_letter_max_length: '2' } });
  writeConfig(dir, sections);
  setLogSink((line) => lines.push(line));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await compute?.close();
  await vhost?.remove();
  rmSync(dir, { recursive: true, force: true });
});

function startDaemon(metrics?: PrometheusMetrics): SpawnDaemon {
  const daemon = new SpawnDaemon(
    { bus: busOptions(sections) },
    { compute: standaloneCompute(compute.spawner, compute.driver), log: getLogger('test.dead'), ...(metrics ? { metrics } : {}) },
  );
  daemon.start();
  return daemon;
}

function cli(...args: string[]): ReturnType<typeof runCli> {
  return runCli(['dead-letters', ...args, '--config-file', join(dir, 'nova.conf')], { timeoutMs: 30_000 });
}

async function depth(queue: string): Promise<number> {
  const counts = (await queueCounts(vhost.name)).get(queue);
  return (counts?.ready ?? 0) + (counts?.unacked ?? 0);
}

/** A cast at an RPC version the daemon does not serve (dead-lettered at once), carrying an admin password. */
function unservedCast(): Buffer {
  return castBody(template, newInstance(), (inner) => {
    inner['version'] = '99.0';
    (inner['args'] as Record<string, unknown>)['admin_password'] = SECRET;
  });
}

test('an unbounded dead-letter queue of an earlier nova-spawnd holding a message is kept; replayed empty, the next start bounds it', async () => {
  // What an earlier nova-spawnd declared, with a build it gave up on.
  const channel = await client.createConfirmChannel();
  await channel.assertExchange('nova-spawnd.dead', 'fanout', { durable: true, autoDelete: false });
  await channel.assertQueue('nova-spawnd.dead', { durable: true, autoDelete: false, arguments: {} });
  await channel.bindQueue('nova-spawnd.dead', 'nova-spawnd.dead', '');
  const instance = newInstance();
  const headers = {
    [DEAD_LETTER_HEADER.reason]: 'retries-exhausted',
    [DEAD_LETTER_HEADER.error]: 'OperationFailed',
    [DEAD_LETTER_HEADER.detail]: 'libvirt was not running',
    [DEAD_LETTER_HEADER.attempts]: 3,
    [DEAD_LETTER_HEADER.host]: HOST,
    [DEAD_LETTER_HEADER.rejectedAt]: '2026-12-01T10:00:00.000Z',
    [DEAD_LETTER_HEADER.originalExchange]: 'nova',
    [DEAD_LETTER_HEADER.originalRoutingKey]: HOST_QUEUE,
    [DEAD_LETTER_HEADER.instanceUuid]: instance.uuid,
  };
  channel.publish('nova-spawnd.dead', HOST_QUEUE, castBody(template, instance), { ...JSON_PROPERTIES, headers });
  await channel.waitForConfirms();
  await channel.close();

  let daemon = startDaemon();
  await daemon.ready();
  expect(lines.some((line) => line.includes('WARNING') && line.includes('was declared with other arguments') && line.includes('kept as it is'))).toBe(true);

  const listed = cli('list', '--json');
  expect(listed.stderr).not.toContain('ERROR');
  expect(listed.status).toBe(0);
  const [old] = listed.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(old).toMatchObject({ reason: 'retries-exhausted', method: 'build_and_run_instance', instance: instance.uuid, host: HOST, attempts: 3, routingKey: HOST_QUEUE });

  // Replayed to compute.<host>, a fresh attempt (our headers left behind): this daemon builds it.
  const replayed = cli('replay', String(old!['id']));
  expect(replayed.stdout).toContain(`${String(old!['id'])}: replayed to nova ${HOST_QUEUE}`);
  expect(replayed.status).toBe(0);
  await eventually(`instance ${instance.uuid} running`, async () => ((await compute.connection.lookupByUuid(instance.uuid))?.state === 'running' ? true : undefined));
  expect(await depth('nova-spawnd.dead')).toBe(0);

  await daemon.stop(10_000);
  daemon = startDaemon();
  await daemon.ready();
  const { queues } = await listDeclarations(vhost.name);
  expect(queues.find((queue) => queue.startsWith('nova-spawnd.dead\t'))).toMatch(/x-max-length.*2.*x-overflow.*reject-publish|x-overflow.*reject-publish.*x-max-length.*2/);
  await daemon.stop(10_000);
}, 120_000);

test('a full queue refuses the next dead letter: it stays in its compute queue, warned of and counted; list shows no secret; replay names what it cannot find', async () => {
  const metrics = new PrometheusMetrics({ version: 'test', controlPlane: false });
  const daemon = startDaemon(metrics);
  await daemon.ready();
  lines.length = 0;
  const channel = await client.createConfirmChannel();
  for (let index = 0; index < 3; index++) channel.publish('nova', HOST_QUEUE, unservedCast(), JSON_PROPERTIES);
  await channel.waitForConfirms();
  await channel.close();

  await eventually('a dead letter refused', () => (lines.some((line) => line.includes('the broker refused the dead letter (nova-spawnd.dead is full)')) ? true : undefined));
  expect(await depth('nova-spawnd.dead')).toBe(2);
  // Not lost: back in its queue, or being handled again.
  expect(await depth(HOST_QUEUE)).toBe(1);
  expect(lines.some((line) => line.includes('WARNING') && line.includes('holds 2 of at most 2 messages (100%)'))).toBe(true);
  const exposition = await metrics.registry.metrics();
  expect(exposition).toMatch(/^nova_spawnd_dead_letters_refused_total [1-9]/m);
  expect(exposition).toMatch(/^nova_spawnd_dead_letter_queue_messages 2$/m);
  await daemon.stop(10_000);

  const listed = cli('list');
  expect(listed.status).toBe(0);
  const entries = listed.stdout.trim().split('\n');
  expect(entries.at(-1)).toBe('2 message(s) in nova-spawnd.dead');
  for (const entry of entries.slice(0, 2)) {
    expect(entry).toMatch(new RegExp(`^[0-9a-f]{12} \\d{4}-\\d\\d-\\d\\dT.* host=${HOST} reason=unsupported-version method=build_and_run_instance instance=[0-9a-f-]{36} request=req-`));
  }
  expect(listed.stdout + listed.stderr).not.toContain(SECRET);
  const ids = entries.slice(0, 2).map((entry) => entry.slice(0, 12));

  const missing = cli('replay', 'feedfacecafe', ids[0]!);
  expect(missing.status).toBe(65);
  expect(missing.stderr).toContain('feedfacecafe: no such message in nova-spawnd.dead');
  expect(missing.stdout).toContain(`${ids[0]}: replayed to nova ${HOST_QUEUE}`);
  expect(await depth('nova-spawnd.dead')).toBe(1);
  // As sent, marked as a replay of its dead letter, without the dead letter's headers.
  const reader = await client.createChannel();
  const messages = [];
  for (let message = await reader.get(HOST_QUEUE); message !== false; message = await reader.get(HOST_QUEUE)) messages.push(message);
  await reader.close();
  const replay = messages.find((message) => message.properties.headers?.[REPLAY_HEADER] === ids[0]);
  expect(replay).toBeDefined();
  expect(Object.keys(replay!.properties.headers ?? {}).filter((name) => name.startsWith('x-nova-spawnd-'))).toEqual([REPLAY_HEADER]);
  expect(replay!.content.toString()).toContain(SECRET);
}, 120_000);

test('a dead letter replayed to the daemon that rejected it is handled again, not taken for a duplicate of the original', async () => {
  const fresh = await createVhost('replay');
  const freshSections = daemonSections(HOST, fresh.url);
  const freshDir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-replay-'));
  writeConfig(freshDir, freshSections);
  const daemon = new SpawnDaemon({ bus: busOptions(freshSections) }, { compute: standaloneCompute(compute.spawner, compute.driver), log: getLogger('test.replay') });
  daemon.start();
  const freshClient = await connectClient(fresh.url);
  try {
    await daemon.ready();
    const freshDepth = async (): Promise<number> => (await queueCounts(fresh.name)).get('nova-spawnd.dead')?.ready ?? 0;
    const channel = await freshClient.createConfirmChannel();
    channel.publish('nova', HOST_QUEUE, unservedCast(), JSON_PROPERTIES);
    await channel.waitForConfirms();
    await channel.close();
    await eventually('the dead letter', async () => ((await freshDepth()) === 1 ? true : undefined));
    const list = (): string[] => runCli(['dead-letters', 'list', '--config-file', join(freshDir, 'nova.conf')]).stdout.trim().split('\n').slice(0, -1).map((line) => line.slice(0, 12));
    const [first] = list();
    lines.length = 0;
    expect(runCli(['dead-letters', 'replay', '--all', '--config-file', join(freshDir, 'nova.conf')]).status).toBe(0);
    // The same _unique_id, which this daemon remembers as handled: rejected again, under a new id.
    await eventually('the replay rejected again', async () => ((await freshDepth()) === 1 && !list().includes(first!) ? true : undefined));
    expect(lines.some((line) => line.includes('duplicate delivery'))).toBe(false);
  } finally {
    await freshClient.close();
    await daemon.stop(10_000);
    await fresh.remove();
    rmSync(freshDir, { recursive: true, force: true });
  }
}, 120_000);

test('dead-letters needs list or replay, and replay --all or IDs', () => {
  expect(runCli(['dead-letters']).status).toBe(64);
  expect(runCli(['dead-letters', 'replay', '--config-file', join(dir, 'nova.conf')]).status).toBe(64);
});
