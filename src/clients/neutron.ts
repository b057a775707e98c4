/**
 * Neutron's v2.0 API as a compute calls it (nova/network/neutron.py get_client): as the user (the request's
 * token, Neutron's endpoint from [neutron] endpoint_override or the request's catalog) and as the service
 * ([neutron]'s own credentials, keystoneauth-style, for what only an admin may do: binding ports to a host).
 * Every failure is a ServiceCallFailed naming the call (method and path, never the query) and the status,
 * with Neutron's error type (PortNotFound, IpAddressAlreadyAllocated, ...) as its code.
 */
import type { KsaAdapterOptions, KsaAuthOptions } from '../config/schema.js';
import { Adapter } from './adapter.js';
import type { ServiceCatalog } from './catalog.js';
import { CredentialsNotConfigured, ServiceCallFailed } from './errors.js';
import { sessionFromConfig, userTokenSource, type TokenSource } from './session.js';

/** The user's side of a request context, as a cast carries it. */
export interface UserCredentials {
  auth_token: string | null;
  service_catalog: ServiceCatalog;
  /** Sent as X-OpenStack-Request-ID (neutronclient's global_request_id), so Neutron's log names the request. */
  global_request_id?: string | null;
}

/** A port as Neutron answers it (the attributes a compute reads; ML2 with the port binding extension). */
export interface NeutronPort {
  id: string;
  network_id: string;
  tenant_id: string;
  mac_address: string;
  admin_state_up: boolean;
  status: string;
  device_id: string;
  device_owner: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  security_groups?: string[];
  dns_name?: string;
  resource_request?: Record<string, unknown> | null;
  'binding:host_id'?: string | null;
  'binding:vif_type'?: string;
  'binding:vif_details'?: Record<string, unknown> | null;
  'binding:vnic_type'?: string;
  'binding:profile'?: Record<string, unknown> | null;
}

export interface NeutronNetwork {
  id: string;
  name: string;
  tenant_id: string;
  mtu?: number;
  shared?: boolean;
  admin_state_up?: boolean;
  subnets?: string[];
  port_security_enabled?: boolean;
  dns_domain?: string;
  'router:external'?: boolean;
  segments?: NeutronSegment[];
  'provider:physical_network'?: string | null;
  'provider:network_type'?: string | null;
}

export interface NeutronSegment {
  'provider:physical_network'?: string | null;
  'provider:network_type'?: string | null;
}

export interface NeutronSubnet {
  id: string;
  network_id: string;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp?: boolean;
  dns_nameservers?: string[];
  host_routes?: { destination: string; nexthop: string }[];
  ipv6_address_mode?: string | null;
}

export interface NeutronFloatingIp {
  floating_ip_address: string;
}

export interface NeutronSecurityGroup {
  id: string;
  name?: string | null;
}

/** Query parameters in order; a list repeats its key, a boolean is written as Python's str() writes it. */
export type Query = [string, string | boolean | readonly string[]][];

export function queryString(query: Query): string {
  const parts = query.flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value]).map((item: string | boolean) => {
      const text = typeof item === 'boolean' ? (item ? 'True' : 'False') : item;
      return `${encodeURIComponent(key)}=${encodeURIComponent(text)}`;
    }),
  );
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** neutron-server's error body: {"NeutronError": {"type", "message", "detail"}}; else a proxy's first line. */
async function neutronError(response: Response): Promise<{ type: string | null; message: string }> {
  const text = await response.text();
  try {
    const error = (JSON.parse(text) as { NeutronError?: { type?: unknown; message?: unknown } }).NeutronError;
    if (typeof error?.message === 'string') return { type: typeof error.type === 'string' ? error.type : null, message: error.message };
  } catch {
    // Not Neutron's JSON.
  }
  return { type: null, message: text.split('\n')[0]!.slice(0, 200) || response.statusText };
}

/** The calls on one side (user or service) of Neutron. */
export class NeutronCalls {
  constructor(
    private readonly adapter: Adapter,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** GET /v2.0/ports/{id}; null when Neutron has no such port (404). */
  async showPort(id: string, fields: readonly string[] = []): Promise<NeutronPort | null> {
    const answer = await this.call<{ port: NeutronPort }>('GET', `/v2.0/ports/${encodeURIComponent(id)}`, fields.length ? [['fields', fields]] : [], undefined, [404]);
    return answer === null ? null : answer.port;
  }

  async listPorts(query: Query): Promise<NeutronPort[]> {
    return (await this.call<{ ports: NeutronPort[] }>('GET', '/v2.0/ports', query))!.ports;
  }

  async createPort(port: Record<string, unknown>): Promise<NeutronPort> {
    return (await this.call<{ port: NeutronPort }>('POST', '/v2.0/ports', [], { port }))!.port;
  }

  async updatePort(id: string, port: Record<string, unknown>): Promise<NeutronPort> {
    return (await this.call<{ port: NeutronPort }>('PUT', `/v2.0/ports/${encodeURIComponent(id)}`, [], { port }))!.port;
  }

  /** DELETE /v2.0/ports/{id}; false when the port was already gone (404), which is no failure. */
  async deletePort(id: string): Promise<boolean> {
    return (await this.call('DELETE', `/v2.0/ports/${encodeURIComponent(id)}`, [], undefined, [404])) !== null;
  }

  async listNetworks(query: Query): Promise<NeutronNetwork[]> {
    return (await this.call<{ networks: NeutronNetwork[] }>('GET', '/v2.0/networks', query))!.networks;
  }

  async showNetwork(id: string, fields: readonly string[] = []): Promise<NeutronNetwork> {
    return (await this.call<{ network: NeutronNetwork }>('GET', `/v2.0/networks/${encodeURIComponent(id)}`, fields.length ? [['fields', fields]] : []))!.network;
  }

  /** GET /v2.0/auto-allocated-topology/{project}: the project's network, created by Neutron if need be. */
  async autoAllocatedTopology(projectId: string): Promise<{ id: string }> {
    const path = `/v2.0/auto-allocated-topology/${encodeURIComponent(projectId)}`;
    return (await this.call<{ auto_allocated_topology: { id: string } }>('GET', path, []))!.auto_allocated_topology;
  }

  async listSubnets(query: Query): Promise<NeutronSubnet[]> {
    return (await this.call<{ subnets: NeutronSubnet[] }>('GET', '/v2.0/subnets', query))!.subnets;
  }

  async listSecurityGroups(query: Query): Promise<NeutronSecurityGroup[]> {
    return (await this.call<{ security_groups: NeutronSecurityGroup[] }>('GET', '/v2.0/security-groups', query))!.security_groups;
  }

  /** The aliases of Neutron's extensions. */
  async listExtensions(): Promise<string[]> {
    return (await this.call<{ extensions: { alias: string }[] }>('GET', '/v2.0/extensions', []))!.extensions.map((extension) => extension.alias);
  }

  /** Nova's _safe_get_floating_ips: a Neutron without the L3 API answers 404, which means none. */
  async listFloatingIps(query: Query): Promise<NeutronFloatingIp[]> {
    const answer = await this.call<{ floatingips: NeutronFloatingIp[] }>('GET', '/v2.0/floatingips', query, undefined, [404]);
    return answer === null ? [] : answer.floatingips;
  }

  /** The answer's JSON (undefined for 204), null for a status in `absent`; else ServiceCallFailed. */
  private async call<T>(method: string, path: string, query: Query, json?: unknown, absent: readonly number[] = []): Promise<T | null> {
    const response = await this.adapter.request(method, `${path}${queryString(query)}`, { headers: this.headers, ...(json === undefined ? {} : { json }) });
    if (absent.includes(response.status)) {
      await response.body?.cancel();
      return null;
    }
    if (response.status < 200 || response.status >= 300) {
      const { type, message } = await neutronError(response);
      throw new ServiceCallFailed(`${method} ${path}`, this.adapter.section, response.status, type, message);
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}

export class NeutronClient {
  /** [neutron]'s own session (auth_type); null when the section has no credentials. */
  private readonly admin: TokenSource | null;

  constructor(
    /** [neutron]'s adapter options (service_type network, endpoint_override, interfaces, region) and credentials. */
    private readonly options: KsaAdapterOptions & KsaAuthOptions,
    /** The service's session; by default one made from the options' credentials (checked here, at start). */
    admin?: TokenSource | null,
  ) {
    this.admin = admin !== undefined ? admin : sessionFromConfig('neutron', options);
  }

  /** get_client(context): the user's token and catalog. Refused when the context has no token (Nova's Unauthorized). */
  asUser(user: UserCredentials): NeutronCalls {
    if (user.auth_token === null) {
      // Nova's Unauthorized: no call is made, and the same context will never have a token (not retryable).
      throw new ServiceCallFailed('a call as the user', 'neutron', 401, 'Unauthorized', 'the request context has no user token to call Neutron with');
    }
    return new NeutronCalls(new Adapter(userTokenSource(user.auth_token, user.service_catalog), 'neutron', this.options), requestId(user));
  }

  /** get_client(context, admin=True): [neutron]'s credentials. */
  asAdmin(user?: Pick<UserCredentials, 'global_request_id'>): NeutronCalls {
    if (this.admin === null) throw new CredentialsNotConfigured('neutron', 'a compute needs them to bind ports to its host');
    return new NeutronCalls(new Adapter(this.admin, 'neutron', this.options), requestId(user));
  }

  /**
   * security_group_api.get_instance_security_groups(context, instance), as InstanceMetadata asks it: the
   * groups of the instance's ports, port by port, each by its name (its id when it has none); a group the
   * user cannot see is left out. No ports, no groups.
   */
  async instanceSecurityGroups(user: UserCredentials, instanceUuid: string): Promise<string[]> {
    const neutron = this.asUser(user);
    const ports = await neutron.listPorts([['device_id', instanceUuid]]);
    const ids = [...new Set(ports.flatMap((port) => port.security_groups ?? []))];
    if (ids.length === 0) return [];
    const groups = await neutron.listSecurityGroups([['id', ids], ['fields', ['id', 'name']]]);
    const byId = new Map(groups.map((group) => [group.id, group]));
    return ports.flatMap((port) =>
      (port.security_groups ?? []).flatMap((id) => {
        const group = byId.get(id);
        return group === undefined ? [] : [group.name || group.id];
      }),
    );
  }
}

function requestId(user: Pick<UserCredentials, 'global_request_id'> | undefined): Record<string, string> {
  const id = user?.global_request_id ?? null;
  return id === null ? {} : { 'X-OpenStack-Request-ID': id };
}
