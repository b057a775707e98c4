/**
 * The compute manager's rules, as a pure unit test: recording stand-ins for the builder, the lifecycle and
 * the driver, whose operations the test lets finish one by one.
 */
import { ComputeManager, type Builder, type InstanceOperation, type Lifecycle, type NetworkEventHandler } from '../../src/compute/compute-manager.js';
import { InstanceEvents } from '../../src/compute/instance-events.js';
import type { InstanceDriver } from '../../src/compute/driver.js';
import { OperationStopped } from '../../src/compute/instance-bookkeeping.js';
import { BuildRescheduled, OperationFailed } from '../../src/compute/operation-failed.js';
import type { SpawnResult } from '../../src/compute/spawn-result.js';
import { getLogger } from '../../src/log.js';
import type { InstanceCast } from '../../src/nova/compute-casts.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { FULL } from '../nova/nova-scenarios.js';

const A = '0a0a0a0a-0000-4000-8000-00000000000a';
const B = '0b0b0b0b-0000-4000-8000-00000000000b';

/** Work the test finishes by hand: each started operation waits until released (or failed). */
class Gate {
  readonly started: string[] = [];
  private readonly waiting = new Map<string, { resolve: () => void; reject: (error: unknown) => void }[]>();

  async enter(label: string): Promise<void> {
    this.started.push(label);
    await new Promise<void>((resolve, reject) => this.waiting.set(label, [...(this.waiting.get(label) ?? []), { resolve, reject }]));
  }

  release(label: string, error?: unknown): void {
    const next = this.waiting.get(label)?.shift();
    if (!next) throw new Error(`${label} is not waiting (started: ${this.started.join(', ')})`);
    if (error === undefined) next.resolve();
    else next.reject(error);
  }
}

function request(uuid: string): SpawnRequest {
  return { ...FULL, instance: { ...FULL.instance, uuid } };
}

function target(uuid: string): InstanceCast {
  return { uuid, instance: {}, context: {} };
}

const build = (uuid: string): InstanceOperation => ({ kind: 'build', request: request(uuid), cast: null });
const terminate = (uuid: string): InstanceOperation => ({ kind: 'terminate', target: target(uuid) });

/** Lets the microtasks run (the manager's lock chains), so that an operation ready to start has. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup(options: { maxConcurrentBuilds?: number; maxAttempts?: number } = {}) {
  const gate = new Gate();
  const builds: number[] = [];
  const builder: Builder = {
    build: async (req, _cast, attempt): Promise<SpawnResult> => {
      builds.push(attempt.number);
      await gate.enter(`build ${req.instance.uuid}`);
      return { uuid: req.instance.uuid, domain: `domain-${req.instance.uuid.slice(0, 2)}`, outcome: 'spawned', drive: 'created' };
    },
  };
  const lifecycle: Lifecycle = {
    terminate: (cast) => gate.enter(`terminate ${cast.uuid}`),
    stop: (cast) => gate.enter(`stop ${cast.uuid}`),
    start: (cast) => gate.enter(`start ${cast.uuid}`),
    reboot: (cast, type) => gate.enter(`reboot ${type} ${cast.uuid}`),
  };
  const driver = { consoleOutput: async () => Buffer.from('a\nb\n\xe9', 'latin1') } as unknown as InstanceDriver;
  const events = new InstanceEvents();
  const refreshed: string[] = [];
  const network: NetworkEventHandler = { networkChanged: async (cast, tag) => void refreshed.push(`${cast.uuid} ${tag}`) };
  const manager = new ComputeManager(
    { maxConcurrentBuilds: options.maxConcurrentBuilds ?? 0, retry: { maxAttempts: options.maxAttempts ?? 3, backoff: { initialMs: 100, maxMs: 1000, jitter: 0 } }, memory: 100 },
    { builder, lifecycle, driver, events, network, log: getLogger('test.manager') },
  );
  return { gate, builds, manager, events, refreshed };
}

test('operations on one instance run one after the other, in arrival order; other instances do not wait', async () => {
  const { gate, manager } = setup();
  const first = manager.perform(build(A), 1);
  const second = manager.perform({ kind: 'stop', target: target(A), cleanShutdown: true }, 1);
  const third = manager.perform(terminate(A), 1);
  const other = manager.perform(build(B), 1);
  await settle();
  expect(gate.started).toEqual([`build ${A}`, `build ${B}`]);
  gate.release(`build ${A}`);
  await expect(first).resolves.toMatchObject({ kind: 'done', fresh: true, spawn: { domain: 'domain-0a' } });
  await settle();
  expect(gate.started.slice(2)).toEqual([`stop ${A}`]);
  gate.release(`stop ${A}`);
  await settle();
  expect(gate.started.slice(3)).toEqual([`terminate ${A}`]);
  expect(manager.busyInstances).toBe(2);
  gate.release(`terminate ${A}`);
  gate.release(`build ${B}`);
  await expect(Promise.all([second, third, other])).resolves.toEqual([expect.objectContaining({ kind: 'done' }), expect.objectContaining({ kind: 'done' }), expect.objectContaining({ kind: 'done' })]);
  expect(manager.busyInstances).toBe(0);
});

test('a failed operation does not block the next one on the instance', async () => {
  const { gate, manager } = setup({ maxAttempts: 1 });
  const failing = manager.perform({ kind: 'reboot', target: target(A), rebootType: 'HARD' }, 1);
  const next = manager.perform(terminate(A), 1);
  await settle();
  gate.release(`reboot HARD ${A}`, new Error('a bug'));
  await expect(failing).resolves.toMatchObject({ kind: 'failed', error: expect.objectContaining({ message: 'a bug' }) });
  await settle();
  gate.release(`terminate ${A}`);
  await expect(next).resolves.toMatchObject({ kind: 'done' });
});

test('a transient failure with attempts left is to be retried after the backoff; on the last attempt it is final', async () => {
  const { gate, builds, manager } = setup({ maxAttempts: 3 });
  const transient = new OperationFailed(A, 'start', true, 'libvirtd is restarting');
  const first = manager.perform(build(A), 1);
  await settle();
  gate.release(`build ${A}`, transient);
  await expect(first).resolves.toEqual({ kind: 'retry', delayMs: 100, error: transient });
  const second = manager.perform(build(A), 2);
  await settle();
  gate.release(`build ${A}`, transient);
  await expect(second).resolves.toEqual({ kind: 'retry', delayMs: 200, error: transient });
  const last = manager.perform(build(A), 3);
  await settle();
  gate.release(`build ${A}`, transient);
  await expect(last).resolves.toEqual({ kind: 'failed', error: transient });
  expect(builds).toEqual([1, 2, 3]);
});

test('a permanent failure is final at once; a rescheduled build is settled elsewhere', async () => {
  const { gate, manager } = setup();
  const permanent = new OperationFailed(A, 'define', false, 'invalid XML');
  const failed = manager.perform(build(A), 1);
  await settle();
  gate.release(`build ${A}`, permanent);
  await expect(failed).resolves.toEqual({ kind: 'failed', error: permanent });
  const rescheduled = new BuildRescheduled(B, 'start', 'LibvirtError: boom');
  const handedOver = manager.perform(build(B), 1);
  await settle();
  gate.release(`build ${B}`, rescheduled);
  await expect(handedOver).resolves.toEqual({ kind: 'rescheduled', error: rescheduled });
});

test('an operation stopped because its instance was deleted meanwhile is settled: neither retried nor failed', async () => {
  const { gate, builds, manager } = setup();
  const build1 = manager.perform(build(A), 1);
  const stop = manager.perform({ kind: 'stop', target: target(A), cleanShutdown: true }, 1);
  await settle();
  const buildStopped = new OperationStopped(A, 'build', 'the instance was deleted (UnexpectedDeletingTaskStateError at Instance.save)', true);
  gate.release(`build ${A}`, buildStopped);
  await expect(build1).resolves.toEqual({ kind: 'stopped', error: buildStopped });
  await settle();
  const stopStopped = new OperationStopped(A, 'stop', 'the instance was deleted (InstanceNotFound at Instance.save)', true);
  gate.release(`stop ${A}`, stopStopped);
  await expect(stop).resolves.toEqual({ kind: 'stopped', error: stopStopped });
  expect(builds).toEqual([1]);
});

test('an instance built here, or deleted here, is not built again by a redelivered message', async () => {
  const { gate, builds, manager } = setup();
  const first = manager.perform(build(A), 1);
  await settle();
  gate.release(`build ${A}`);
  await first;
  await expect(manager.perform(build(A), 1)).resolves.toEqual({ kind: 'done', fresh: false });
  const deleted = manager.perform(terminate(A), 1);
  await settle();
  gate.release(`terminate ${A}`);
  await deleted;
  await expect(manager.perform(build(A), 1)).resolves.toEqual({ kind: 'done', fresh: false });
  expect(builds).toEqual([1]);
});

test('builds share the slots; the first attempt tells when it starts; after stop() nothing waiting starts', async () => {
  const { gate, manager } = setup({ maxConcurrentBuilds: 1 });
  const started: string[] = [];
  const first = manager.perform(build(A), 1, { buildStarts: () => started.push(A) });
  const second = manager.perform(build(B), 1, { buildStarts: () => started.push(B) });
  const waitingOnA = manager.perform(terminate(A), 1);
  await settle();
  expect({ started, gate: gate.started }).toEqual({ started: [A], gate: [`build ${A}`] });
  manager.stop();
  gate.release(`build ${A}`);
  await expect(first).resolves.toMatchObject({ kind: 'done' });
  await expect(second).resolves.toEqual({ kind: 'abandoned' });
  await expect(waitingOnA).resolves.toEqual({ kind: 'abandoned' });
  expect(gate.started).toEqual([`build ${A}`]);
});

test('console output needs no lock and answers as Nova does', async () => {
  const { manager } = setup();
  void manager.perform(build(A), 1);
  await settle();
  await expect(manager.perform({ kind: 'console-output', target: target(A), tailLength: 2 }, 1)).resolves.toEqual({ kind: 'done', fresh: true, result: 'b\n\ufffd' });
});

const event = (name: string, tag: string | null, status = 'completed', uuid = A) => ({ instance_uuid: uuid, name, status, tag });

test('external events need no lock: network-vif-plugged reaches the build waiting for it, network-changed refreshes', async () => {
  const { manager, events, refreshed } = setup();
  void manager.perform(build(A), 1);
  await settle();
  const waiter = events.prepare(A, ['network-vif-plugged-port-1', 'network-vif-plugged-port-2']);
  const waited = waiter.wait(60_000);
  await expect(
    manager.perform({ kind: 'external-events', targets: [target(A)], events: [event('network-vif-plugged', 'port-1'), event('network-changed', 'port-1'), event('network-vif-plugged', 'port-2', 'failed'), event('network-vif-deleted', 'port-3')] }, 1),
  ).resolves.toEqual({ kind: 'done', fresh: true });
  await expect(waited).resolves.toEqual({
    received: new Map([['network-vif-plugged-port-1', 'completed'], ['network-vif-plugged-port-2', 'failed']]),
    missing: [],
    cleared: false,
  });
  expect(refreshed).toEqual([`${A} port-1`]);
});

test('an event for an instance the cast does not carry, or that nobody waits for, changes nothing', async () => {
  const { manager, events, refreshed } = setup();
  const waiter = events.prepare(A, ['network-vif-plugged-port-1']);
  await manager.perform({ kind: 'external-events', targets: [target(B)], events: [event('network-vif-plugged', 'port-1'), event('network-changed', null)] }, 1);
  await manager.perform({ kind: 'external-events', targets: [target(B)], events: [event('network-vif-plugged', 'port-9', 'completed', B)] }, 1);
  expect(refreshed).toEqual([]);
  await expect(waiter.wait(10)).resolves.toEqual({ received: new Map(), missing: ['network-vif-plugged-port-1'], cleared: false });
});

test('a terminate ends the wait of the build it queues behind at once', async () => {
  const { gate, manager, events } = setup();
  const building = manager.perform(build(A), 1);
  await settle();
  const waited = events.prepare(A, ['network-vif-plugged-port-1']).wait(60_000);
  const terminating = manager.perform(terminate(A), 1);
  await expect(waited).resolves.toEqual({ received: new Map(), missing: ['network-vif-plugged-port-1'], cleared: true });
  gate.release(`build ${A}`);
  await expect(building).resolves.toMatchObject({ kind: 'done' });
  await settle();
  gate.release(`terminate ${A}`);
  await expect(terminating).resolves.toMatchObject({ kind: 'done' });
});
