/**
 * The instance.create.start notification is confirmed while the guest is built: the spawn does not wait for
 * the broker, yet the end notification (and with it the ack) never goes out before the start one. A pure
 * unit test: the consumer with recording fakes for the spawner, the notifier and the delivery.
 */
import type { MessageProperties } from 'amqplib';
import { SpawnConsumer, type Delivery } from '../../src/bus/spawn-consumer.js';
import type { InstanceCreateEvent } from '../../src/bus/notifier.js';
import { getLogger } from '../../src/log.js';
import { newInstance, plainBody } from './helpers/messages.js';

test('the spawn starts before the start notification is confirmed; the end one and the ack wait for it', async () => {
  const events: string[] = [];
  let confirmStart!: () => void;
  const consumer = new SpawnConsumer(
    { host: 'compute-order', maxConcurrentBuilds: 1, maxMessageBytes: 1 << 20, retry: { maxAttempts: 1, backoff: { initialMs: 1, maxMs: 1, jitter: 0 } }, memory: 10 },
    {
      spawner: {
        spawn: async (request) => {
          events.push('spawn');
          return { uuid: request.instance.uuid, domain: 'instance-1', outcome: 'spawned', drive: 'created' };
        },
      },
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
