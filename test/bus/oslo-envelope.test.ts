import { EnvelopeError } from '../../src/bus/envelope-error.js';
import { decodeBody, type DecodedBody } from '../../src/bus/oslo-envelope.js';
import { runPython } from '../metadata/python.js';
import { novaWireBody } from '../nova/wire-bodies.js';

/**
 * A call (not a cast) put together by oslo.messaging's own driver functions, as AMQPDriverBase._send does:
 * reply address, _unique_id, the context packed into _context_* keys, the envelope, then kombu's JSON.
 */
const OSLO_CALL = `
import json, sys
from kombu.utils import json as kombu_json
from oslo_messaging._drivers import amqp, common
message = {'method': 'get_console_output', 'args': {'tail_length': 50}, 'namespace': 'compute', 'version': '6.0'}
message.update({'_msg_id': 'f3a1b2c3d4e5f60718293a4b5c6d7e8f', '_reply_q': 'reply_0a1b2c3d4e5f', '_timeout': 60})
amqp._add_unique_id(message)
amqp.pack_context(message, {'request_id': 'req-1', 'user_id': 'u-1', 'roles': ['admin'], 'is_admin': True})
sys.stdout.write(kombu_json.dumps(common.serialize_msg(message)))
`;

function body(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function envelope(inner: unknown, version: unknown = '2.0'): Buffer {
  return body({ 'oslo.version': version, 'oslo.message': typeof inner === 'string' ? inner : JSON.stringify(inner) });
}

function expectEnvelopeError(decode: () => DecodedBody, field: string, shown?: string): void {
  let caught: unknown;
  try {
    decode();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EnvelopeError);
  const error = caught as EnvelopeError;
  expect(error.name).toBe('EnvelopeError');
  expect(error.field).toBe(field);
  expect(error.message).toContain(field);
  if (shown !== undefined) expect(error.message).toContain(shown);
}

describe('bodies made by oslo.messaging', () => {
  test("Nova's build_and_run_instance cast: method, version, unique id and the whole request context", async () => {
    const wire = await novaWireBody('full', '6.0');
    const decoded = decodeBody(wire.body, wire.content_type);
    if (decoded.kind !== 'oslo') throw new Error('not read as an oslo envelope');
    const { message } = decoded;

    expect(message).toMatchObject({ method: 'build_and_run_instance', version: '6.0', namespace: null, msg_id: null, reply_q: null, timeout: null });
    expect(message.unique_id).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(message.args).sort()).toEqual(
      ['accel_uuids', 'admin_password', 'block_device_mapping', 'filter_properties', 'host_list', 'image', 'injected_files', 'instance', 'limits', 'node', 'request_spec', 'requested_networks', 'security_groups'],
    );
    expect(message.args['node']).toBe('compute-1');
    // nova.context.RequestContext.to_dict(), unprefixed.
    expect(message.context).toMatchObject({
      user_id: '8c2bd6a9e2b84d8b8a3f0d1c2b3a4f5e',
      user: '8c2bd6a9e2b84d8b8a3f0d1c2b3a4f5e',
      project_id: '4d7e1f0a9b8c4d3e8f7a6b5c4d3e2f1a',
      request_id: 'req-2b1f7c0e-6d8a-4b1e-9c3d-5e7f9a1b2c3d',
      global_request_id: 'req-9f8e7d6c-5b4a-4321-8765-0fedcba98765',
      auth_token: 'gAAAAABtoken-for-glance',
      roles: ['member', 'reader'],
      user_name: 'alice',
      project_name: 'web',
      remote_address: '192.0.2.10',
      is_admin: false,
      read_deleted: 'no',
    });
    expect(message.context['timestamp']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
    expect(Object.keys(message.context).some((key) => key.startsWith('_context_'))).toBe(false);
  });

  test('a call: namespace, reply queue, message id and timeout', async () => {
    const decoded = decodeBody(Buffer.from(await runPython(['-c', OSLO_CALL], null)), 'application/json');
    if (decoded.kind !== 'oslo') throw new Error('not read as an oslo envelope');
    expect(decoded.message).toEqual({
      method: 'get_console_output',
      args: { tail_length: 50 },
      version: '6.0',
      namespace: 'compute',
      unique_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      context: { request_id: 'req-1', user_id: 'u-1', roles: ['admin'], is_admin: true },
      msg_id: 'f3a1b2c3d4e5f60718293a4b5c6d7e8f',
      reply_q: 'reply_0a1b2c3d4e5f',
      timeout: 60,
    });
  });
});

describe('envelope details', () => {
  test('no args and no version: {} and "1.0", as the RPC dispatcher reads them', () => {
    const decoded = decodeBody(envelope({ method: 'ping' }));
    expect(decoded).toEqual({
      kind: 'oslo',
      message: { method: 'ping', args: {}, version: '1.0', namespace: null, unique_id: null, context: {}, msg_id: null, reply_q: null, timeout: null },
    });
  });

  test.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON', undefined])('content type %s is accepted', (contentType) => {
    expect(decodeBody(envelope({ method: 'ping' }), contentType).kind).toBe('oslo');
  });

  test('a plain spawn request is recognised by its nova_spawnd key and handed back as it is', () => {
    const request = { nova_spawnd: '1.0', uuid: 'anything, checked later' };
    expect(decodeBody(body(request), 'application/json')).toEqual({ kind: 'plain', request });
  });

  test('envelope keys win over the plain discriminator', () => {
    const both = { 'oslo.version': '2.0', 'oslo.message': JSON.stringify({ method: 'ping' }), nova_spawnd: '1.0' };
    expect(decodeBody(body(both)).kind).toBe('oslo');
  });
});

describe('bad bodies', () => {
  test.each([
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'body', 'not valid UTF-8 (got 3 bytes)'],
    ['not JSON', Buffer.from('build_and_run_instance'), 'body', '"build_and_run_instance"'],
    ['a UTF-8 byte order mark (Python json refuses it too)', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body({ nova_spawnd: '1.0' })]), 'body', 'is not JSON'],
    ['a JSON list', body([1, 2]), 'body', '[1,2]'],
    ['a JSON string', body('hello'), 'body', '"hello"'],
    ['an object that is neither envelope nor plain request', body({ method: 'ping' }), 'body', '["method"]'],
    ['oslo.version without oslo.message', body({ 'oslo.version': '2.0' }), 'oslo.message', 'is missing'],
    ['oslo.message without oslo.version', body({ 'oslo.message': '{}' }), 'oslo.version', 'is missing'],
    ['envelope 3.0', envelope({ method: 'ping' }, '3.0'), 'oslo.version', '"3.0"'],
    ['envelope 2.1', envelope({ method: 'ping' }, '2.1'), 'oslo.version', '"2.1"'],
    ['envelope 1.0', envelope({ method: 'ping' }, '1.0'), 'oslo.version', '"1.0"'],
    ['envelope version a number', envelope({ method: 'ping' }, 2.0), 'oslo.version', '2'],
    ['oslo.message an object', body({ 'oslo.version': '2.0', 'oslo.message': { method: 'ping' } }), 'oslo.message', '{"method":"ping"}'],
    ['oslo.message not JSON', envelope('{"method": '), 'oslo.message', '"{\\"method\\": "'],
    ['oslo.message a list', envelope('[]'), 'oslo.message', '[]'],
    ['no method', envelope({ args: {} }), 'method', 'is missing'],
    ['an empty method', envelope({ method: '' }), 'method', '""'],
    ['method a number', envelope({ method: 7 }), 'method', '7'],
    ['args a list', envelope({ method: 'ping', args: [1] }), 'args', '[1]'],
    ['version a number', envelope({ method: 'ping', version: 6.0 }), 'version', '6'],
    ['namespace an object', envelope({ method: 'ping', namespace: {} }), 'namespace', '{}'],
    ['_unique_id a number', envelope({ method: 'ping', _unique_id: 1 }), '_unique_id', '1'],
    ['_reply_q a list', envelope({ method: 'ping', _reply_q: ['q'] }), '_reply_q', '["q"]'],
    ['_timeout a string', envelope({ method: 'ping', _timeout: '60' }), '_timeout', '"60"'],
  ])('%s', (_, bytes, field, shown) => {
    expectEnvelopeError(() => decodeBody(bytes, 'application/json'), field, shown);
  });

  test('a content type other than JSON', () => {
    expectEnvelopeError(() => decodeBody(envelope({ method: 'ping' }), 'text/plain'), 'content_type', '"text/plain"');
  });

  test('a huge body that is not JSON is shown cut short', () => {
    let caught: unknown;
    try {
      decodeBody(Buffer.from('x'.repeat(1 << 20)));
    } catch (error) {
      caught = error;
    }
    expect((caught as EnvelopeError).message.length).toBeLessThan(400);
  });
});
