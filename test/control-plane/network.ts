/**
 * Neutron on the control plane of scripts/control-plane, for tests: its API as an admin (networks, subnets,
 * ports, agents), and the agent host (the Linux bridge agent's [DEFAULT] host, the one host whose ports bind),
 * which one compute host at a time may be: claimAgentHost.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ComputeHost } from './compute-host.js';
import { getJson, type ControlPlane } from './control-plane.js';

/** A port as Neutron answers it (the fields tests read; the rest as given). */
export interface Port extends Record<string, unknown> {
  id: string;
  network_id: string;
  project_id: string;
  device_id: string;
  device_owner: string;
  mac_address: string;
  status: string;
  admin_state_up: boolean;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  'binding:host_id': string;
  'binding:vif_type': string;
  'binding:vif_details': Record<string, unknown>;
  'binding:vnic_type': string;
  'binding:profile': Record<string, unknown>;
}

export interface Network extends Record<string, unknown> {
  id: string;
  name: string;
  project_id: string;
  status: string;
  shared: boolean;
  mtu: number;
  subnets: string[];
  'provider:network_type': string;
  'provider:physical_network': string | null;
}

export interface Subnet extends Record<string, unknown> {
  id: string;
  network_id: string;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: boolean;
  dns_nameservers: string[];
  allocation_pools: { start: string; end: string }[];
}

export interface Agent extends Record<string, unknown> {
  id: string;
  agent_type: string;
  binary: string;
  host: string;
  alive: boolean;
  configurations: Record<string, unknown>;
}

/** A Neutron answer that is not 2xx: the call, the status and Neutron's message. */
export class NeutronError extends Error {
  constructor(
    readonly call: string,
    readonly status: number,
    body: string,
  ) {
    super(`Neutron ${call}: HTTP ${status} ${body}`);
  }
}

/**
 * A call to neutron-server's /v2.0 API (noauth: every request is an admin's, the token is sent anyway, as Nova
 * sends it); its JSON answer, or null for an answer without a body (DELETE). Throws NeutronError.
 */
export async function neutron(plane: ControlPlane, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const url = `${plane.neutron_url}/v2.0${path}`;
  const response = await fetch(url, {
    method,
    headers: { 'X-Auth-Token': plane.token, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new NeutronError(`${method} ${url}`, response.status, text);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

/** `?a=1&b=2` of a query (a list repeats its key, as Neutron's filters take it); '' for none. */
function query(filters: Record<string, string | readonly string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) for (const one of typeof value === 'string' ? [value] : value) params.append(name, one);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

type Collection = 'networks' | 'subnets' | 'ports' | 'agents';
const SINGULAR = { networks: 'network', subnets: 'subnet', ports: 'port', agents: 'agent' } as const;

/**
 * A POST; the project is noauth2's of the plane's token ("user:project") unless given: noauth Neutron knows no
 * project of its own and refuses a resource without one.
 */
async function create<T>(plane: ControlPlane, collection: Collection, fields: Record<string, unknown>): Promise<T> {
  const project_id = plane.token.split(':')[1];
  const answer = (await neutron(plane, 'POST', `/${collection}`, { [SINGULAR[collection]]: { project_id, ...fields } })) as Record<string, T>;
  return answer[SINGULAR[collection]]!;
}

async function show<T>(plane: ControlPlane, collection: Collection, id: string): Promise<T> {
  return ((await neutron(plane, 'GET', `/${collection}/${id}`)) as Record<string, T>)[SINGULAR[collection]]!;
}

async function list<T>(plane: ControlPlane, collection: Collection, filters: Record<string, string | readonly string[]>): Promise<T[]> {
  return ((await neutron(plane, 'GET', `/${collection}${query(filters)}`)) as Record<string, T[]>)[collection]!;
}

/** A DELETE; true when it deleted, false when Neutron had no such resource (404). */
async function destroy(plane: ControlPlane, collection: Collection, id: string): Promise<boolean> {
  try {
    await neutron(plane, 'DELETE', `/${collection}/${id}`);
    return true;
  } catch (error) {
    if (error instanceof NeutronError && error.status === 404) return false;
    throw error;
  }
}

/** POST /v2.0/ports {"port": fields}: e.g. network_id, device_id, device_owner, binding:host_id, fixed_ips. */
export const createPort = (plane: ControlPlane, fields: Record<string, unknown>): Promise<Port> => create(plane, 'ports', fields);
export const showPort = (plane: ControlPlane, id: string): Promise<Port> => show(plane, 'ports', id);
export const listPorts = (plane: ControlPlane, filters: Record<string, string | readonly string[]> = {}): Promise<Port[]> => list(plane, 'ports', filters);
export async function updatePort(plane: ControlPlane, id: string, fields: Record<string, unknown>): Promise<Port> {
  return ((await neutron(plane, 'PUT', `/ports/${id}`, { port: fields })) as { port: Port }).port;
}
export const deletePort = (plane: ControlPlane, id: string): Promise<boolean> => destroy(plane, 'ports', id);

/** POST /v2.0/networks: a `local` network (the default type) binds on the agent host too; deleted with its subnets and ports. */
export const createNetwork = (plane: ControlPlane, fields: Record<string, unknown>): Promise<Network> => create(plane, 'networks', fields);
export const showNetwork = (plane: ControlPlane, id: string): Promise<Network> => show(plane, 'networks', id);
export const deleteNetwork = (plane: ControlPlane, id: string): Promise<boolean> => destroy(plane, 'networks', id);

export const createSubnet = (plane: ControlPlane, fields: Record<string, unknown>): Promise<Subnet> => create(plane, 'subnets', fields);
export const showSubnet = (plane: ControlPlane, id: string): Promise<Subnet> => show(plane, 'subnets', id);

export const listAgents = (plane: ControlPlane, filters: Record<string, string | readonly string[]> = {}): Promise<Agent[]> => list(plane, 'agents', filters);

/** The agent host, held by this process until release(). */
export interface AgentHostClaim {
  /** The [DEFAULT] host the compute host under test runs with (plane.agent_host). */
  readonly name: string;
  release(): Promise<void>;
}

/**
 * Takes the agent host for the caller (a test file), waiting as long as another holds it: an exclusive flock on
 * plane.agent_host_lock, held by a child `flock` for as long as its stdin is open, so that a test process that
 * dies, however it dies, lets it go. Then retires what a killed run left under that name: its servers (deleted
 * by nova-api once the service is down) and its compute service, with the compute node and resource provider.
 * Release it in afterAll, after the compute host is retired.
 */
export async function claimAgentHost(plane: ControlPlane): Promise<AgentHostClaim> {
  const holder = spawn('flock', ['--exclusive', plane.agent_host_lock, '--command', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  holder.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = once(holder, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const locked = new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  const outcome = await Promise.race([locked.then(() => 'locked' as const), exited]);
  if (outcome !== 'locked') throw new Error(`flock ${plane.agent_host_lock} exited (${outcome.join(' ')}): ${stderr}`);
  const claim: AgentHostClaim = {
    name: plane.agent_host,
    async release() {
      if (holder.exitCode !== null || holder.signalCode !== null) return;
      holder.stdin.end();
      await exited;
    },
  };
  try {
    await retireStale(plane);
  } catch (error) {
    await claim.release();
    throw error;
  }
  return claim;
}

/** The servers and compute service a killed run left on the agent host, through ComputeHost.retire (no daemon). */
async function retireStale(plane: ControlPlane): Promise<void> {
  const stale = new ComputeHost(plane, plane.agent_host, '');
  const { servers } = (await getJson(`${plane.compute_url}/servers?all_tenants=1&host=${encodeURIComponent(plane.agent_host)}`, plane)) as { servers: { id: string }[] };
  stale.servers.push(...servers.map((server) => server.id));
  if (servers.length === 0 && (await stale.listedService()) === undefined) return;
  console.warn(`retiring the compute host ${plane.agent_host} left by an earlier run (servers: ${servers.map((server) => server.id).join(', ') || 'none'})`);
  await stale.retire();
}
