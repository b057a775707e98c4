/**
 * A confirmed publish on the real RabbitMQ: confirmed; nacked by a queue at its x-max-length with
 * reject-publish; returned, mandatory, by an exchange no queue is bound to; each told apart (PublishRefused,
 * why), while several publishes are in flight on the channel.
 */
import type { ChannelModel } from 'amqplib';
import { publishConfirmed } from '../../src/bus/confirmed-publish.js';
import { PublishRefused } from '../../src/bus/publish-refused.js';
import { connectClient, createVhost, type TestVhost } from './helpers/rabbit.js';

let vhost: TestVhost;
let client: ChannelModel;

beforeAll(async () => {
  vhost = await createVhost('confirm');
  client = await connectClient(vhost.url);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await vhost?.remove();
});

test('confirmed, nacked by a full reject-publish queue, returned unroutable when mandatory', async () => {
  const channel = await client.createConfirmChannel();
  await channel.assertExchange('bounded', 'fanout', { durable: false });
  await channel.assertQueue('bounded', { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
  await channel.bindQueue('bounded', 'bounded', '');
  await channel.assertExchange('nowhere', 'fanout', { durable: false });
  const publish = (exchange: string, body: string, mandatory = true): Promise<string> =>
    publishConfirmed(channel, exchange, 'key', Buffer.from(body), { mandatory }).then(
      () => 'confirmed',
      (error: unknown) => (error instanceof PublishRefused ? error.why : `other: ${String(error)}`),
    );
  // In flight together: the first fills the queue, the second is nacked, the third returned, the fourth
  // (not mandatory) confirmed though it went nowhere.
  expect(await Promise.all([publish('bounded', 'one'), publish('bounded', 'two'), publish('nowhere', 'three'), publish('nowhere', 'four', false)])).toEqual([
    'confirmed',
    'nacked',
    'unroutable',
    'confirmed',
  ]);
  await channel.close();
}, 30_000);
