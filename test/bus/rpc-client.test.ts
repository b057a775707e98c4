/**
 * RPC calls out, against the real nova-conductor of scripts/control-plane on the real RabbitMQ: the
 * conductor reads our calls and answers them (a result, or Nova's own exception, decoded), a call nobody
 * serves times out, and a call in flight when the broker drops our connection fails at once, retryably, while
 * the client reconnects and calls again through the same reply queue.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { getLogger } from '../../src/log.js';
import { RpcCallError } from '../../src/bus/rpc-call-error.js';
import { RpcClient, type RpcTarget } from '../../src/bus/rpc-client.js';
import { parseTransportUrl } from '../../src/bus/transport-url.js';
import { CONTROL_PLANE_START_MS, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { decodeEnvelope } from '../../src/bus/oslo-envelope.js';
import { connectClient, eventually, listDeclarations } from './helpers/rabbit.js';

const execFileAsync = promisify(execFile);

/** nova/conductor/rpcapi.py ConductorAPI: topic conductor, RPC API 3.0, no namespace for the object calls. */
const CONDUCTOR: RpcTarget = { topic: 'conductor', namespace: null, version: '3.0' };
/** What Nova 26's obj_tree_get_versions sends with a Service and a ComputeNode class call. */
const SERVICE_VERSIONS = { Service: '1.22', ComputeNode: '1.19', HVSpec: '1.2', PciDevicePoolList: '1.1', PciDevicePool: '1.1' };
const COMPUTE_NODE_VERSIONS = { ComputeNode: '1.19', HVSpec: '1.2', PciDevicePoolList: '1.1', PciDevicePool: '1.1' };
const NAME = `nova-spawnd-rpc-test-${process.pid}`;

let plane: ControlPlane;
let client: RpcClient;

/** nova.context.get_admin_context().to_dict(), the context a compute service's periodic work calls with. */
function adminContext(): Record<string, unknown> {
  return {
    user_id: null, project_id: null, system_scope: null, domain_id: null, user_domain_id: null, project_domain_id: null,
    is_admin: true, read_only: false, show_deleted: false, auth_token: null, request_id: `req-${randomUUID()}`,
    global_request_id: null, resource_uuid: null, roles: [], user_identity: '- - - - -', is_admin_project: true,
    read_deleted: 'no', remote_address: null, timestamp: new Date().toISOString().replace('Z', ''), quota_class: null,
    user_name: null, project_name: null, service_catalog: [],
  };
}

function classAction(objname: string, objmethod: string, objectVersions: Record<string, string>, args: unknown[]): Promise<unknown> {
  return client.call(CONDUCTOR, adminContext(), 'object_class_action_versions', { objname, objmethod, object_versions: objectVersions, args, kwargs: {} });
}

async function failureOf(call: Promise<unknown>): Promise<RpcCallError> {
  const error = await call.then(
    (result) => new Error(`expected the call to fail, it returned ${JSON.stringify(result)}`),
    (error: unknown) => error,
  );
  if (!(error instanceof RpcCallError)) throw error;
  return error;
}

beforeAll(async () => {
  plane = await startControlPlane();
  client = new RpcClient({
    broker: { brokers: parseTransportUrl(plane.transport_url), tls: null, heartbeatSeconds: 60 },
    name: NAME,
    controlExchange: 'nova',
    // Nova's defaults: the conductor declared the exchange so, and RabbitMQ refuses a differing redeclaration.
    queueMode: { quorum: false, durable: false, autoDelete: false },
    responseTimeoutMs: 30_000,
    reconnect: { initialMs: 200, maxMs: 1000, jitter: 0.2 },
    log: getLogger('test.rpc-client'),
  });
  client.start();
  await client.ready();
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  await client?.close();
});

test('the reply queue is declared as oslo declares it: reply_<uuid hex>, classic, transient, expiring after 30 minutes', async () => {
  const { queues } = await listDeclarations(plane.vhost);
  const ours = queues.filter((line) => line.includes('x-expires') && /^reply_[0-9a-f]{32}\t/.test(line));
  expect(ours.length).toBeGreaterThanOrEqual(1);
  expect(ours.some((line) => /^reply_[0-9a-f]{32}\tfalse\tfalse\tfalse\t\[\{"x-expires",1800000\}\]\tclassic$/.test(line))).toBe(true);
});

test('Service.get_by_host_and_binary: the conductor answers None for an unknown host, a Service primitive for its own', async () => {
  await expect(classAction('Service', 'get_by_host_and_binary', SERVICE_VERSIONS, [`no-such-host-${randomUUID()}`, 'nova-compute'])).resolves.toBeNull();
  const service = (await classAction('Service', 'get_by_host_and_binary', SERVICE_VERSIONS, ['control-plane', 'nova-conductor'])) as Record<string, unknown>;
  expect(service).toMatchObject({
    'nova_object.name': 'Service',
    'nova_object.namespace': 'nova',
    'nova_object.version': '1.22',
    'nova_object.data': expect.objectContaining({ host: 'control-plane', binary: 'nova-conductor', topic: 'conductor', disabled: false }),
  });
});

test('ComputeNode.get_by_host_and_nodename of an unknown host: RemoteError carrying ComputeHostNotFound, not retryable', async () => {
  const host = `no-such-host-${randomUUID()}`;
  const error = await failureOf(classAction('ComputeNode', 'get_by_host_and_nodename', COMPUTE_NODE_VERSIONS, [host, host]));
  expect(error.failure).toBe('RemoteError');
  expect(error.retryable).toBe(false);
  expect(error.remote).toMatchObject({ className: 'ComputeHostNotFound', module: 'nova.exception', kwargs: { host } });
  expect(error.remote?.message).toContain(host);
  expect(error.message).toContain('nova.exception.ComputeHostNotFound');
});

test('an unknown method: the conductor\'s dispatcher refuses it with oslo\'s NoSuchMethod', async () => {
  const error = await failureOf(client.call(CONDUCTOR, adminContext(), 'no_such_method', {}));
  expect(error.remote).toMatchObject({ className: 'NoSuchMethod', module: 'oslo_messaging.rpc.dispatcher' });
  expect(error.retryable).toBe(false);
});

test('a call to a topic nobody serves times out after the timeout given, retryably', async () => {
  const began = Date.now();
  const error = await failureOf(client.call({ topic: `nobody-${randomUUID()}`, namespace: null, version: '1.0', timeoutMs: 1500 }, adminContext(), 'ping', {}));
  const waited = Date.now() - began;
  expect(error.failure).toBe('MessagingTimeout');
  expect(error.retryable).toBe(true);
  expect(waited).toBeGreaterThanOrEqual(1500);
  expect(waited).toBeLessThan(5000);
});

test('the broker drops the connection: the call in flight fails at once, retryably; after the reconnect calls work again', async () => {
  const pending = failureOf(client.call({ topic: `nobody-${randomUUID()}`, namespace: null, version: '1.0', timeoutMs: 60_000 }, adminContext(), 'ping', {}));
  const began = Date.now();
  await closeConnection(NAME);
  const error = await pending;
  expect(error.failure).toBe('ConnectionLost');
  expect(error.retryable).toBe(true);
  expect(Date.now() - began).toBeLessThan(10_000);
  // The reconnect takes a moment; until then calls are refused as ConnectionLost, retryable.
  const service = await eventually('a call through the new connection', async () => {
    try {
      return await classAction('Service', 'get_by_host_and_binary', SERVICE_VERSIONS, ['control-plane', 'nova-scheduler']);
    } catch (error) {
      if (error instanceof RpcCallError && error.retryable) return undefined;
      throw error;
    }
  }, 30_000, 200);
  expect(service).toMatchObject({ 'nova_object.data': expect.objectContaining({ binary: 'nova-scheduler' }) });
}, 60_000);

test("a cast: confirmed by the broker, oslo's envelope without a reply queue, message id or expiry", async () => {
  const model = await connectClient(plane.transport_url);
  try {
    const channel = await model.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const topic = `nova-spawnd-cast-test-${process.pid}`;
    await channel.bindQueue(queue, 'nova', topic);
    const context = adminContext();
    await client.cast({ topic, namespace: 'compute_task', version: '1.19' }, context, 'build_instances', { instances: [], host_lists: [[]] });
    const delivered = await eventually('the cast', async () => (await channel.get(queue, { noAck: true })) || undefined, 10_000);
    expect(delivered.properties).toMatchObject({ contentType: 'application/json', deliveryMode: 2, expiration: undefined });
    const message = decodeEnvelope(delivered.content, delivered.properties.contentType as string);
    expect(message).toMatchObject({ method: 'build_instances', namespace: 'compute_task', version: '1.19', args: { instances: [], host_lists: [[]] }, _context_request_id: context['request_id'] });
    expect(message['_unique_id']).toMatch(/^[0-9a-f]{32}$/);
    for (const key of ['_msg_id', '_reply_q', '_timeout']) expect(message).not.toHaveProperty(key);
  } finally {
    await model.close();
  }
});

/** `rabbitmqctl close_connection` for the connection that named itself `name`: the broker ends it. */
async function closeConnection(name: string): Promise<void> {
  const { stdout } = await execFileAsync('rabbitmqctl', ['-q', 'list_connections', '--no-table-headers', 'pid', 'client_properties'], { timeout: 30_000 });
  const line = stdout.split('\n').find((candidate) => candidate.includes(`{"connection_name","${name}"}`));
  if (!line) throw new Error(`no connection named ${name} in: ${stdout}`);
  await execFileAsync('rabbitmqctl', ['-q', 'close_connection', line.split('\t')[0]!, 'test: broker drops the RPC client'], { timeout: 30_000 });
}
