/**
 * What the consumer remembers of a message it acked: enough to ack a later delivery of it without a second
 * operation, and nothing of how it was handled (bench/spawn-delete.ts measures what that was worth). A pure
 * unit test: the consumer with a recording driver, spawner and delivery.
 */
import type { MessageProperties } from 'amqplib';
import { setImmediate as turn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SpawnConsumer, type Delivery } from '../../src/bus/spawn-consumer.js';
import { ComputeManager, pipelineBuilder } from '../../src/compute/compute-manager.js';
import type { InstanceDriver } from '../../src/compute/driver.js';
import { LocalLifecycle } from '../../src/compute/local-lifecycle.js';
import type { Logger, LogContext } from '../../src/log.js';
import { novaObjectVersion } from '../../src/nova/object-versions.js';
import { envelope, newInstance, plainBody } from './helpers/messages.js';

interface Setup {
  consumer: SpawnConsumer;
  spawns: string[];
  destroys: string[];
  /** Every log line's message with the context object it was given (the very object, not a copy). */
  lines: { message: string; context: LogContext | undefined }[];
}

function setup(): Setup {
  const spawns: string[] = [];
  const destroys: string[] = [];
  const lines: Setup['lines'] = [];
  const record = (message: string, context?: LogContext): void => void lines.push({ message, context });
  const log: Logger = { debug: record, info: record, warning: record, error: record, child: () => log };
  const driver = new Proxy({} as InstanceDriver, {
    get: (_, name) => (name === 'destroy' ? async (uuid: string) => void destroys.push(uuid) : () => Promise.reject(new Error(`driver.${String(name)} is not in this test`))),
  });
  const compute = new ComputeManager(
    { maxConcurrentBuilds: 1, retry: { maxAttempts: 1, backoff: { initialMs: 1, maxMs: 1, jitter: 0 } }, memory: 100 },
    {
      builder: pipelineBuilder({ spawn: async (request) => (spawns.push(request.instance.uuid), { uuid: request.instance.uuid, domain: 'instance-1', outcome: 'spawned', drive: 'created' }) }),
      lifecycle: new LocalLifecycle(driver, { shutdownTimeoutS: 0, shutdownRetryIntervalS: 0 }),
      driver,
      log,
    },
  );
  const consumer = new SpawnConsumer(
    { host: 'compute-memory', maxMessageBytes: 1 << 20, memory: 100 },
    { compute, publisher: { publish: async () => undefined }, notify: async () => undefined, log },
  );
  return { consumer, spawns, destroys, lines };
}

/** Nova's terminate_instance cast as oslo.messaging sends it: keyed by its `_unique_id`. */
function terminateCast(uuid: string, uniqueId: string): Buffer {
  const instance = { 'nova_object.name': 'Instance', 'nova_object.namespace': 'nova', 'nova_object.version': novaObjectVersion('Instance'), 'nova_object.data': { uuid } };
  return envelope({ method: 'terminate_instance', args: { instance, bdms: null }, version: '6.0', _unique_id: uniqueId, _context_request_id: 'req-memory' });
}

function delivery(body: Buffer, acks: string[], options: { redelivered?: boolean; ackSent?: boolean } = {}): Delivery {
  return {
    body,
    properties: { contentType: 'application/json' } as MessageProperties,
    exchange: 'nova',
    routingKey: 'compute.compute-memory',
    redelivered: options.redelivered ?? false,
    isOpen: () => options.ackSent ?? true,
    ack: () => (acks.push('ack'), options.ackSent ?? true),
    requeue: () => true,
  };
}

test('a message acked before is acked again without a second operation: resent with its _unique_id, or redelivered', async () => {
  const { consumer, spawns, destroys, lines } = setup();
  const { uuid } = newInstance();
  const acks: string[] = [];
  const cast = terminateCast(uuid, 'c0ffee');
  await consumer.handle(delivery(cast, acks));
  await consumer.handle(delivery(cast, acks));
  const build = plainBody(newInstance());
  await consumer.handle(delivery(build, acks));
  await consumer.handle(delivery(build, acks, { redelivered: true }));
  expect(destroys).toEqual([uuid]);
  expect(spawns).toHaveLength(1);
  expect(acks).toHaveLength(4);
  const duplicates = lines.filter((line) => line.message.startsWith('duplicate delivery'));
  expect(duplicates.map((line) => line.context?.['instance'])).toEqual([uuid, spawns[0]]);
});

test('a message whose ack did not reach the broker is acked on its redelivery, without a second operation', async () => {
  const { consumer, destroys } = setup();
  const { uuid } = newInstance();
  const acks: string[] = [];
  const cast = terminateCast(uuid, 'feed');
  await consumer.handle(delivery(cast, acks, { ackSent: false }));
  await consumer.handle(delivery(cast, acks, { redelivered: true }));
  expect(destroys).toEqual([uuid]);
  expect(acks).toEqual(['ack', 'ack']);
});

test('once a message is acked, nothing of its handling stays in memory', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { consumer, lines } = setup();
  await consumer.handle(delivery(plainBody(newInstance()), []));
  // The handling's own log context, given as is to the lines of its notifications.
  const handling = ((): WeakRef<LogContext> => {
    const context = lines.find((line) => line.message.startsWith('notification instance.create.end'))?.context;
    expect(context).toBeDefined();
    return new WeakRef(context!);
  })();
  lines.length = 0;
  // A WeakRef holds its target until the end of the job that made or read it.
  await turn();
  gc();
  expect(handling.deref()).toBeUndefined();
});
