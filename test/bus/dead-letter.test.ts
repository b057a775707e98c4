/** What `dead-letters list` shows of a dead letter and what `replay` sends: pure functions on a message. */
import type { MessageProperties } from 'amqplib';
import { replayOf, summarize, type DeadMessage } from '../../src/bus/dead-letter.js';
import { DEAD_LETTER_HEADER } from '../../src/bus/rejection.js';
import { REPLAY_HEADER } from '../../src/bus/spawn-consumer.js';

function deadLetter(body: string, headers: Record<string, unknown>): DeadMessage {
  const base = {
    [DEAD_LETTER_HEADER.reason]: 'invalid-request',
    [DEAD_LETTER_HEADER.error]: 'InvalidComputeRequest',
    [DEAD_LETTER_HEADER.host]: 'compute-1',
    [DEAD_LETTER_HEADER.rejectedAt]: '2026-12-02T09:00:00.000Z',
    [DEAD_LETTER_HEADER.originalExchange]: 'nova',
    [DEAD_LETTER_HEADER.originalRoutingKey]: 'compute.compute-1',
    [DEAD_LETTER_HEADER.attempts]: 0,
  };
  return { content: Buffer.from(body), properties: { contentType: 'application/json', headers: { ...base, ...headers } } as unknown as MessageProperties };
}

test('a detail about a secret field is withheld; one about another field is shown', () => {
  const secret = summarize(deadLetter('{}', { [DEAD_LETTER_HEADER.field]: 'admin_password', [DEAD_LETTER_HEADER.detail]: 'admin_password: expected a string, got 12345' }));
  expect(secret).toMatchObject({ field: 'admin_password', detail: '(withheld: about admin_password)' });
  const shown = summarize(deadLetter('{}', { [DEAD_LETTER_HEADER.field]: 'memory_mb', [DEAD_LETTER_HEADER.detail]: 'memory_mb: must be at least 1, got 0' }));
  expect(shown.detail).toBe('memory_mb: must be at least 1, got 0');
});

test('a body that cannot be decoded has no method; the headers say the rest; the id is stable and tells rejections apart', () => {
  const message = deadLetter('not json', { [DEAD_LETTER_HEADER.reason]: 'malformed-message' });
  expect(summarize(message)).toMatchObject({ method: null, instance: null, reason: 'malformed-message', host: 'compute-1', attempts: 0, routingKey: 'compute.compute-1' });
  expect(summarize(message).id).toMatch(/^[0-9a-f]{12}$/);
  expect(summarize(deadLetter('not json', {})).id).toBe(summarize(message).id);
  expect(summarize(deadLetter('not json', { [DEAD_LETTER_HEADER.rejectedAt]: '2026-12-02T09:00:01.000Z' })).id).not.toBe(summarize(message).id);
});

test('a replay goes where the message was first sent, as sent, without our headers nor x-death, marked with its id, mandatory', () => {
  const message = deadLetter('{"x": 1}', { 'x-death': [{ count: 1 }], 'x-sender': 'kept', 'x-nova-spawnd-attempts': 3 });
  const replay = replayOf(message)!;
  expect(replay).toMatchObject({ exchange: 'nova', routingKey: 'compute.compute-1' });
  expect(replay.properties).toMatchObject({ contentType: 'application/json', deliveryMode: 2, mandatory: true });
  expect(replay.properties.headers).toEqual({ 'x-sender': 'kept', [REPLAY_HEADER]: summarize(message).id });
  expect(replayOf(deadLetter('{}', { [DEAD_LETTER_HEADER.originalRoutingKey]: undefined }))).toBeNull();
});
