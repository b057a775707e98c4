/**
 * The instance.create.start notification is confirmed while the guest is built: the spawn does not wait for
 * the broker, yet the end notification (and with it the ack) never goes out before the start one. A pure
 * unit test: the consumer with recording fakes for the spawner, the notifier and the delivery.
 */
import type { MessageProperties } from 'amqplib';
import { SpawnConsumer, type Delivery } from '../../src/bus/spawn-consumer.js';
import type { InstanceCreateEvent } from '../../src/bus/notifier.js';
import { ComputeManager, pipelineBuilder } from '../../src/compute/compute-manager.js';
import type { InstanceDriver } from '../../src/compute/driver.js';
import { LocalLifecycle } from '../../src/compute/local-lifecycle.js';
import type { Spawner } from '../../src/compute/spawner.js';
import { getLogger } from '../../src/log.js';
import { newInstance, plainBody } from './helpers/messages.js';

test('the spawn starts before the start notification is confirmed; the end one and the ack wait for it', async () => {
  const events: string[] = [];
  let confirmStart!: () => void;
  const spawner: Spawner = {
    spawn: async (request) => {
      events.push('spawn');
      return { uuid: request.instance.uuid, domain: 'instance-1', outcome: 'spawned', drive: 'created' };
    },
  };
  const unused = new Proxy({} as InstanceDriver, { get: () => () => Promise.reject(new Error('not in this test')) });
  const consumer = new SpawnConsumer(
    { host: 'compute-order', maxMessageBytes: 1 << 20, memory: 10 },
    {
      compute: new ComputeManager(
        { maxConcurrentBuilds: 1, retry: { maxAttempts: 1, backoff: { initialMs: 1, maxMs: 1, jitter: 0 } }, memory: 10 },
        { builder: pipelineBuilder(spawner), lifecycle: new LocalLifecycle(unused, { shutdownTimeoutS: 0, shutdownRetryIntervalS: 0 }), driver: unused, log: getLogger('test.order') },
      ),
      publisher: { publish: async () => undefined },
      notify: (event: InstanceCreateEvent) => {
        events.push(`${event.phase} published`);
        if (event.phase !== 'start') return Promise.resolve();
        return new Promise<void>((resolve) => (confirmStart = () => (events.push('start confirmed'), resolve())));
      },
      log: getLogger('test.order'),
    },
  );
  const delivery: Delivery = {
    body: plainBody(newInstance()),
    properties: { contentType: 'application/json' } as MessageProperties,
    exchange: 'nova',
    routingKey: 'compute.compute-order',
    redelivered: false,
    isOpen: () => true,
    ack: () => (events.push('acked'), true),
    requeue: () => true,
  };

  const handled = consumer.handle(delivery);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(events).toEqual(['start published', 'spawn']);
  confirmStart();
  await handled;
  expect(events).toEqual(['start published', 'spawn', 'start confirmed', 'end published', 'acked']);
});
