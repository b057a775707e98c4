/**
 * Whether a build's message came for the first time reaches the builder (SpawnAttempt.redelivered): NovaBuild
 * skips reading the instance again only then. A pure unit test: the consumer and the compute manager with a
 * recording builder and delivery.
 */
import type { MessageProperties } from 'amqplib';
import { REPLAY_HEADER, SpawnConsumer, type Delivery } from '../../src/bus/spawn-consumer.js';
import { ComputeManager } from '../../src/compute/compute-manager.js';
import type { InstanceDriver } from '../../src/compute/driver.js';
import { LocalLifecycle } from '../../src/compute/local-lifecycle.js';
import type { SpawnAttempt } from '../../src/compute/spawner.js';
import type { Logger } from '../../src/log.js';
import { newInstance, plainBody } from './helpers/messages.js';

function setup() {
  const attempts: SpawnAttempt[] = [];
  const log: Logger = { debug: () => {}, info: () => {}, warning: () => {}, error: () => {}, child: () => log };
  const driver = {} as InstanceDriver;
  const compute = new ComputeManager(
    { maxConcurrentBuilds: 1, retry: { maxAttempts: 2, backoff: { initialMs: 1, maxMs: 1, jitter: 0 } }, memory: 100 },
    {
      builder: { build: async (request, _cast, attempt) => (attempts.push(attempt), { uuid: request.instance.uuid, domain: 'instance-1', outcome: 'spawned', drive: 'created' }) },
      lifecycle: new LocalLifecycle(driver, { shutdownTimeoutS: 0, shutdownRetryIntervalS: 0 }),
      driver,
      log,
    },
  );
  const consumer = new SpawnConsumer({ host: 'compute-1', maxMessageBytes: 1 << 20, memory: 100 }, { compute, publisher: { publish: async () => undefined }, notify: null, log });
  return { consumer, attempts };
}

function delivery(body: Buffer, redelivered: boolean, headers: Record<string, unknown> = {}): Delivery {
  return {
    body,
    properties: { contentType: 'application/json', headers } as MessageProperties,
    exchange: 'nova',
    routingKey: 'compute.compute-1',
    redelivered,
    isOpen: () => true,
    ack: () => true,
    requeue: () => true,
  };
}

test('a first delivery, a redelivery and a replayed dead letter each tell the builder what they are', async () => {
  const { consumer, attempts } = setup();
  await consumer.handle(delivery(plainBody(newInstance()), false));
  await consumer.handle(delivery(plainBody(newInstance()), true));
  await consumer.handle(delivery(plainBody(newInstance()), false, { [REPLAY_HEADER]: 'dead-letter-1' }));
  expect(attempts).toEqual([
    { number: 1, last: false, redelivered: false },
    { number: 1, last: false, redelivered: true },
    { number: 1, last: false, redelivered: true },
  ]);
});
