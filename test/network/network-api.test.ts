/**
 * NetworkAPI against the control plane's real neutron-server and Linux bridge agent: ports allocated for an
 * instance (a requested network with a fixed IP, and a port the user made) and bound to the agent host as
 * `bridge`; the network_info equal, field by field and as text, to what Nova's own
 * _build_network_info_model makes of the same ports (test/helpers/nova_network_info.py live); a refresh;
 * the release (created port deleted, the user's port unbound); a binding that fails rolled back; refusals.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CredentialsNotConfigured, ServiceCallFailed } from '../../src/clients/errors.js';
import { NeutronClient } from '../../src/clients/neutron.js';
import { loadConfig } from '../../src/config/load.js';
import type { JsonValue } from '../../src/metadata/python-json.js';
import { NetworkRequestRefused } from '../../src/network/errors.js';
import { NetworkAPI, networkApiOptions, type NetworkContext, type NetworkInstance } from '../../src/network/network-api.js';
import type { NetworkRequest } from '../../src/nova/requested-networks.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { CONTROL_PLANE_START_MS, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { createPort, deletePort, listPorts, NeutronError, showPort } from '../control-plane/network.js';
import { closedPort } from '../helpers/closed-port.js';
import { runPython } from '../metadata/python.js';

const HELPER = join(PACKAGE_ROOT, 'test/helpers/nova_network_info.py');

let plane: ControlPlane;
let api: NetworkAPI;
let context: NetworkContext;
let project: string;
const instances: NetworkInstance[] = [];
const userPorts: string[] = [];

const NO_REQUEST: Omit<NetworkRequest, 'network_id' | 'port_id' | 'address'> = { pci_request_id: null, tag: null, arq_uuid: null, device_profile: null };
const onNetwork = (network_id: string, address: string | null = null): NetworkRequest => ({ ...NO_REQUEST, network_id, address, port_id: null });
const withPort = (port_id: string): NetworkRequest => ({ ...NO_REQUEST, network_id: null, address: null, port_id });

function neutronClient(withCredentials = true): NeutronClient {
  const defaults = loadConfig([]).config.neutron;
  return new NeutronClient({
    ...defaults,
    endpoint_override: plane.neutron_url,
    ...(withCredentials ? { auth_type: 'admin_token' as const, endpoint: plane.neutron_url, token: plane.token } : {}),
  });
}

beforeAll(async () => {
  plane = await startControlPlane();
  project = plane.token.split(':')[1]!;
  context = { auth_token: plane.token, service_catalog: [], project_id: project, user_id: 'admin', roles: ['admin'], global_request_id: `req-${randomUUID()}` };
  api = new NetworkAPI(neutronClient(), networkApiOptions(loadConfig([]).config));
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  for (const instance of instances) {
    for (const port of await listPorts(plane, { device_id: instance.uuid })) await deletePort(plane, port.id);
  }
  for (const id of userPorts) await deletePort(plane, id);
});

function newInstance(): NetworkInstance {
  const instance: NetworkInstance = { uuid: randomUUID(), project_id: project, hostname: 'vm-net', availability_zone: 'nova', network_info: [] };
  instances.push(instance);
  return instance;
}

/** A port the user made beforehand on the shared network, in the instance's project. */
async function userPort(): Promise<string> {
  const port = await createPort(plane, { network_id: plane.network.id, project_id: project });
  userPorts.push(port.id);
  return port.id;
}

/** Nova's own _build_network_info_model against the same neutron-server, as allocate_for_instance calls it. */
async function novaNetworkInfo(instance: NetworkInstance, networks: string[], portIds: string[], preexisting: string[]): Promise<string> {
  const input = {
    url: plane.neutron_url,
    token: plane.token,
    cases: [{ instance: { uuid: instance.uuid, project_id: instance.project_id, network_info: [] }, networks, port_ids: portIds, preexisting_port_ids: preexisting }],
  };
  return (JSON.parse(await runPython([HELPER, 'live'], input)) as string[])[0]!;
}

test('a requested network with a fixed IP and a user port: created and bound to the agent host as bridge, network_info as Nova builds it', async () => {
  const instance = newInstance();
  const mine = await userPort();
  const info = await api.allocateForInstance(context, instance, [onNetwork(plane.network.id, '10.9.0.201'), withPort(mine)], plane.agent_host, []);

  const ports = await listPorts(plane, { device_id: instance.uuid });
  expect(ports).toHaveLength(2);
  const created = ports.find((port) => port.id !== mine)!;
  for (const port of ports) {
    expect(port).toMatchObject({
      device_id: instance.uuid,
      device_owner: 'compute:nova',
      'binding:host_id': plane.agent_host,
      'binding:vif_type': 'bridge',
      network_id: plane.network.id,
    });
  }
  expect(created.fixed_ips).toEqual([{ subnet_id: plane.network.subnet_id, ip_address: '10.9.0.201' }]);

  expect(info.vifs.map((vif) => [vif.id, vif.type, vif.devname, vif.network.bridge, vif.preserve_on_delete, vif.delegate_create])).toEqual([
    [created.id, 'bridge', `tap${created.id}`.slice(0, 14), `brq${plane.network.id}`.slice(0, 14), false, true],
    [mine, 'bridge', `tap${mine}`.slice(0, 14), `brq${plane.network.id}`.slice(0, 14), true, true],
  ]);
  expect(info.vifs[0]!.network).toMatchObject({
    label: plane.network.name,
    meta: { mtu: plane.network.mtu, physical_network: plane.network.physical_network, tunneled: false, should_create_bridge: true },
  });
  expect(info.vifs[0]!.network.subnets[0]).toMatchObject({
    cidr: plane.network.cidr,
    gateway: { address: plane.network.gateway_ip },
    dns: plane.network.dns_nameservers.map((address) => ({ address })),
    ips: [expect.objectContaining({ address: '10.9.0.201', type: 'fixed' })],
  });

  const nova = await novaNetworkInfo(instance, [plane.network.id, plane.network.id], [created.id, mine], [mine]);
  // Field by field first (a readable difference), then the text InstanceInfoCache would hold.
  expect(JSON.parse(info.json)).toEqual(JSON.parse(nova));
  expect(info.json).toBe(nova);

  // A refresh from the cache, and of one port (network-changed), give the same VIFs again.
  const cached = { ...instance, network_info: JSON.parse(info.json) as Record<string, JsonValue>[] };
  expect((await api.getInstanceNwInfo(context, cached)).json).toBe(info.json);
  expect((await api.getInstanceNwInfo(context, cached, { refreshVifId: mine })).json).toBe(info.json);
  // A forced refresh without a cache (a retried build): Neutron's ports, the user's one named.
  const forced = await api.getInstanceNwInfo(context, { ...instance, network_info: [] }, { forceRefresh: true, preexistingPortIds: [mine] });
  expect(forced.vifs.map((vif) => [vif.id, vif.preserve_on_delete]).sort()).toEqual([[created.id, false], [mine, true]].sort());

  // Released: the port created for the instance deleted, the user's unbound and kept.
  await api.deallocateForInstance(context, cached);
  await expect(showPort(plane, created.id)).rejects.toMatchObject({ status: 404 } satisfies Partial<NeutronError>);
  expect(await showPort(plane, mine)).toMatchObject({ device_id: '', device_owner: '', 'binding:host_id': '', 'binding:vif_type': 'unbound' });
  // Again: nothing left to do is no failure.
  await api.deallocateForInstance(context, cached);
}, 90_000);

test('a binding that fails (a host without an agent) is PortBindingFailed; the created port is deleted, the user port unbound', async () => {
  const instance = newInstance();
  const mine = await userPort();
  const failure = await api
    .allocateForInstance(context, instance, [withPort(mine), onNetwork(plane.network.id)], `no-agent-${randomUUID()}`, [])
    .catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(NetworkRequestRefused);
  expect(failure).toMatchObject({ kind: 'PortBindingFailed', retryable: false });
  expect((failure as Error).message).toContain(mine);
  expect(await listPorts(plane, { device_id: instance.uuid })).toEqual([]);
  expect(await showPort(plane, mine)).toMatchObject({ device_id: '', device_owner: '', 'binding:host_id': '' });
  expect(await listPorts(plane, { network_id: plane.network.id, project_id: project, device_owner: 'compute:nova' })).not.toContainEqual(
    expect.objectContaining({ device_id: instance.uuid }),
  );
}, 60_000);

test('refusals name the case and leave nothing behind: unknown network, port in use, foreign port, fixed IP taken', async () => {
  const instance = newInstance();
  const missing = randomUUID();
  await expect(api.allocateForInstance(context, instance, [onNetwork(missing)], plane.agent_host, [])).rejects.toMatchObject({
    kind: 'NetworkNotFound',
    message: `NetworkNotFound: Network ${missing} could not be found.`,
  });
  const used = await createPort(plane, { network_id: plane.network.id, project_id: project, device_id: randomUUID() });
  userPorts.push(used.id);
  await expect(api.allocateForInstance(context, instance, [withPort(used.id)], plane.agent_host, [])).rejects.toMatchObject({ kind: 'PortInUse' });
  const foreign = await createPort(plane, { network_id: plane.network.id, project_id: 'another-project' });
  userPorts.push(foreign.id);
  await expect(api.allocateForInstance(context, instance, [withPort(foreign.id)], plane.agent_host, [])).rejects.toMatchObject({ kind: 'PortNotUsable' });
  const gone = randomUUID();
  await expect(api.allocateForInstance(context, instance, [withPort(gone)], plane.agent_host, [])).rejects.toMatchObject({
    kind: 'PortNotFound',
    message: `PortNotFound: Port id ${gone} could not be found.`,
  });
  // The second request's address is the first one's: the first port, created, is deleted again.
  await expect(
    api.allocateForInstance(context, instance, [onNetwork(plane.network.id, '10.9.0.202'), onNetwork(plane.network.id, '10.9.0.202')], plane.agent_host, []),
  ).rejects.toMatchObject({ kind: 'FixedIpAlreadyInUse' });
  await expect(api.allocateForInstance(context, instance, [onNetwork(plane.network.id)], plane.agent_host, ['no-such-group'])).rejects.toMatchObject({
    kind: 'SecurityGroupNotFound',
  });
  expect(await listPorts(plane, { device_id: instance.uuid })).toEqual([]);
  expect(await api.allocateForInstance(context, instance, [{ ...onNetwork('none') }], plane.agent_host, [])).toEqual({ json: '[]', vifs: [] });
}, 60_000);

test('Neutron failures name the call and the status; without [neutron] credentials the binding cannot be made', async () => {
  const instance = newInstance();
  const withoutCredentials = new NetworkAPI(neutronClient(false), { flat_injected: false, ovs_bridge: 'br-int', extension_sync_interval: 600 });
  await expect(withoutCredentials.allocateForInstance(context, instance, [onNetwork(plane.network.id)], plane.agent_host, [])).rejects.toThrow(
    CredentialsNotConfigured,
  );
  // Neutron's 400 InvalidIpForNetwork, as Nova words it.
  await expect(api.allocateForInstance(context, instance, [onNetwork(plane.network.id, '10.10.0.5')], plane.agent_host, [])).rejects.toMatchObject({
    kind: 'InvalidInput',
    message: `InvalidInput: Invalid input received: Fixed IP 10.10.0.5 is not a valid ip address for network ${plane.network.id}.`,
  });
  // No Neutron at all: the call is named, and it may pass later.
  const url = `http://127.0.0.1:${await closedPort()}`;
  const unreachable = new NetworkAPI(
    new NeutronClient({ ...loadConfig([]).config.neutron, endpoint_override: url, auth_type: 'admin_token', endpoint: url, token: plane.token }),
    { flat_injected: false, ovs_bridge: 'br-int', extension_sync_interval: 600 },
  );
  const failure = await unreachable.allocateForInstance(context, instance, [withPort(randomUUID())], plane.agent_host, []).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ServiceCallFailed);
  expect(failure).toMatchObject({ call: expect.stringMatching(/^GET \/v2\.0\/ports\/[0-9a-f-]+$/), status: null, retryable: true });
  expect((failure as Error).message).not.toContain(plane.token);
  expect(await listPorts(plane, { device_id: instance.uuid })).toEqual([]);
});

interface Call {
  side: 'user' | 'admin';
  call: string;
  body: unknown;
}

/** A proxy in front of neutron-server that records every call: whose token, method, path and query, body. */
async function recordingProxy(userToken: string): Promise<{ url: string; calls: Call[]; close: () => Promise<void> }> {
  const calls: Call[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      calls.push({ side: request.headers['x-auth-token'] === userToken ? 'user' : 'admin', call: `${request.method} ${request.url}`, body: text ? JSON.parse(text) : null });
      const headers: Record<string, string> = { 'X-Auth-Token': plane.token, Accept: 'application/json' };
      if (text) headers['Content-Type'] = 'application/json';
      fetch(`${plane.neutron_url}${request.url}`, { method: request.method, headers, ...(text ? { body: text } : {}) }).then(
        async (answer) => {
          const body = await answer.text();
          response.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' }).end(body);
        },
        (error: Error) => response.writeHead(502).end(error.message),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every uuid and IPv4 address replaced by its order of first appearance, so two runs compare. */
function normalised(calls: Call[]): Call[] {
  const seen = new Map<string, string>();
  const text = JSON.stringify(calls).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b\d+\.\d+\.\d+\.\d+\b/g, (found) => {
    if (!seen.has(found)) seen.set(found, `<${seen.size}>`);
    return seen.get(found)!;
  });
  return JSON.parse(text) as Call[];
}

describe.each([
  ['a bound network and user port', () => plane.agent_host],
  ['a binding that fails', () => `no-agent-${randomUUID().slice(0, 8)}`],
])('%s: the calls to Neutron, in order, with their bodies, are the ones Nova 26 makes', (_name, hostOf) => {
  test('allocate, then release', async () => {
    const userToken = `user:${project}`;
    const host = hostOf();
    const run = async (make: (url: string) => Promise<unknown>): Promise<Call[]> => {
      const proxy = await recordingProxy(userToken);
      try {
        await make(proxy.url);
      } finally {
        await proxy.close();
      }
      return normalised(proxy.calls);
    };
    const requested = async (port: string) => [onNetwork(plane.network.id), withPort(port)];

    const novaInstance = newInstance();
    const novaPort = await userPort();
    let novaAnswer: { network_info?: string; error?: string } = {};
    const novaCalls = await run(async (url) => {
      const input = {
        url,
        admin_token: plane.token,
        user_token: userToken,
        instance: novaInstance,
        requested_networks: (await requested(novaPort)).map((request) => Object.fromEntries(Object.entries(request).filter(([, value]) => value !== null))),
        security_groups: ['default'],
        host,
      };
      novaAnswer = JSON.parse(await runPython([HELPER, 'allocate'], input)) as typeof novaAnswer;
    });

    const ourInstance = newInstance();
    const ourPort = await userPort();
    let ourError: unknown = null;
    const ourCalls = await run(async (url) => {
      const ours = new NetworkAPI(
        new NeutronClient({ ...loadConfig([]).config.neutron, endpoint_override: url, auth_type: 'admin_token', endpoint: url, token: plane.token }),
        networkApiOptions(loadConfig([]).config),
      );
      const userContext = { ...context, auth_token: userToken };
      const networks = await requested(ourPort);
      try {
        const info = await ours.allocateForInstance(userContext, ourInstance, networks, host, ['default']);
        await ours.deallocateForInstance(userContext, { ...ourInstance, network_info: JSON.parse(info.json) as Record<string, JsonValue>[] });
      } catch (error) {
        ourError = error;
        await ours.deallocateForInstance(userContext, ourInstance, networks);
      }
    });

    expect(ourError === null ? undefined : (ourError as NetworkRequestRefused).kind).toBe(novaAnswer.error);
    expect(ourCalls.map((call) => `${call.side} ${call.call}`)).toEqual(novaCalls.map((call) => `${call.side} ${call.call}`));
    expect(ourCalls).toEqual(novaCalls);
  }, 60_000);
});
