/**
 * The bytes the daemon writes for others to read, read back by the code that reads them in OpenStack:
 * oslo's remote exception deserializer, Python's datetime formatting, the notification envelopes.
 */
import { notificationStreams } from '../../src/bus/bus-options.js';
import { notificationBody, notificationMessage, pythonUtcTimestamp } from '../../src/bus/notification.js';
import { remoteFailure, type Rejection } from '../../src/bus/rejection.js';
import { rpcReplyBody } from '../../src/bus/rpc-reply.js';
import { runPython } from '../metadata/python.js';

const OSLO_REPLY = `
import json, sys
from oslo_messaging._drivers import common
import nova.exception  # noqa: F401
out = []
for body in json.load(sys.stdin):
    reply = common.deserialize_msg(json.loads(body))
    error = common.deserialize_remote_exception(reply['failure'], ['nova.exception', 'oslo_messaging.rpc.dispatcher'])
    out.append({'class': type(error).__name__, 'message': str(error).split('\\n')[0], 'ending': reply['ending'],
                'msg_id': reply['_msg_id'], 'result': reply['result']})
json.dump(out, sys.stdout)
`;

function rejection(fields: Partial<Rejection>): Rejection {
  return { reason: 'invalid-request', error: 'InvalidComputeRequest', detail: 'instance.uuid is bad', field: null, instanceUuid: null, requestId: null, attempts: 0, ...fields };
}

test("RPC failure replies are rebuilt by oslo's deserializer into the exceptions they name, with their messages", async () => {
  const call = { method: 'reboot_instance', version: '7.0' };
  const uuid = '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10';
  const replies = [
    rejection({ reason: 'unsupported-method' }),
    rejection({ reason: 'unsupported-version' }),
    rejection({ reason: 'spawn-failed', instanceUuid: uuid, detail: 'image x not found' }),
    rejection({ reason: 'malformed-message', detail: 'body is not JSON' }),
  ].map((r, index) => rpcReplyBody(`msg-${index}`, { failure: remoteFailure(r, call) }).toString());
  const rebuilt = JSON.parse(await runPython(['-c', OSLO_REPLY], replies)) as Record<string, unknown>[];
  expect(rebuilt).toEqual([
    { class: 'NoSuchMethod_Remote', message: 'Endpoint does not support RPC method reboot_instance', ending: true, msg_id: 'msg-0', result: null },
    { class: 'UnsupportedVersion_Remote', message: 'Endpoint does not support RPC version 7.0. Attempted method: reboot_instance', ending: true, msg_id: 'msg-1', result: null },
    { class: 'BuildAbortException_Remote', message: `Build of instance ${uuid} aborted: image x not found`, ending: true, msg_id: 'msg-2', result: null },
    { class: 'InvalidInput_Remote', message: 'Invalid input received: body is not JSON', ending: true, msg_id: 'msg-3', result: null },
  ]);
});

test("notification timestamps read as Python's str(datetime.utcnow())", async () => {
  const dates = [new Date('2024-05-01T12:00:00.000Z'), new Date('2024-05-01T12:00:00.123Z'), new Date('1999-12-31T23:59:59.007Z')];
  const python = `
import datetime, json, sys
print(json.dumps([str(datetime.datetime.fromisoformat(d.replace('Z', '+00:00')).replace(tzinfo=None)) for d in json.load(sys.stdin)]))`;
  expect(dates.map(pythonUtcTimestamp)).toEqual(JSON.parse(await runPython(['-c', python], dates.map((d) => d.toISOString()))));
});

test('messagingv2 wraps the notification in the 2.0 envelope, messaging sends it bare; both carry the safe context only', () => {
  const message = notificationMessage(
    { eventType: 'instance.create.end', priority: 'INFO', publisherId: 'nova-compute:h', payload: {}, context: { request_id: 'req-1', auth_token: 'secret', user_id: 'u' } },
    new Date('2024-05-01T12:00:00Z'),
  );
  expect(message).toMatchObject({ event_type: 'instance.create.end', priority: 'INFO', timestamp: '2024-05-01 12:00:00', _context_request_id: 'req-1', _context_user_id: 'u' });
  expect(message).not.toHaveProperty('_context_auth_token');
  expect(JSON.parse(JSON.parse(notificationBody(message, 'messagingv2').toString())['oslo.message'])).toEqual(message);
  expect(JSON.parse(notificationBody(message, 'messaging').toString())).toEqual(message);
});

test.each([
  ['versioned', ['messagingv2'], ['messagingv2'], []],
  ['both', ['messaging', 'log'], ['messaging'], ['messaging']],
  ['versioned', ['messaging', 'messagingv2'], ['messaging', 'messagingv2'], []],
  ['unversioned', ['messagingv2'], [], ['messagingv2']],
  ['both', ['messagingv2'], ['messagingv2'], ['messagingv2']],
  ['versioned', [], [], []],
  ['unversioned', ['noop'], [], []],
] as const)("Nova's rules: notification_format %s with drivers %j publishes versioned through %j, legacy through %j", (format, drivers, versioned, legacy) => {
  const streams = notificationStreams({
    notifications: { notification_format: format, versioned_notifications_topics: ['versioned_notifications'] },
    oslo_messaging_notifications: { driver: [...drivers], topics: ['notifications'], transport_url: null },
  });
  expect(streams).toEqual({ versioned: { drivers: versioned, topics: ['versioned_notifications'] }, legacy: { drivers: legacy, topics: ['notifications'] } });
});
