/**
 * The Neutron calls a compute makes as the user (nova/network/neutron.py get_client(context): the request's
 * token, Neutron's endpoint from [neutron] endpoint_override or the request's catalog).
 */
import type { KsaAdapterOptions } from '../config/schema.js';
import { Adapter } from './adapter.js';
import type { ServiceCatalog } from './catalog.js';
import { errorDetail, ServiceCallFailed } from './errors.js';
import { userTokenSource } from './session.js';

/** The user's side of a request context, as a cast carries it. */
export interface UserCredentials {
  auth_token: string | null;
  service_catalog: ServiceCatalog;
}

interface Port {
  security_groups?: string[];
}

interface SecurityGroup {
  id: string;
  name?: string | null;
}

/** neutron-server's error body: {"NeutronError": {"type", "message", "detail"}}. */
function neutronError(response: Response): Promise<string> {
  return errorDetail(response, (body) => (body as { NeutronError?: { message?: unknown } }).NeutronError?.message);
}

export class NeutronClient {
  constructor(
    /** [neutron]'s adapter options: service_type network, endpoint_override, interfaces, region. */
    private readonly options: KsaAdapterOptions,
  ) {}

  /**
   * security_group_api.get_instance_security_groups(context, instance), as InstanceMetadata asks it: the
   * groups of the instance's ports, port by port, each by its name (its id when it has none); a group the
   * user cannot see is left out. No ports, no groups.
   */
  async instanceSecurityGroups(user: UserCredentials, instanceUuid: string): Promise<string[]> {
    const adapter = this.adapterFor(user);
    const { ports } = (await this.getJson(adapter, `/v2.0/ports?device_id=${encodeURIComponent(instanceUuid)}`)) as { ports: Port[] };
    const ids = [...new Set(ports.flatMap((port) => port.security_groups ?? []))];
    if (ids.length === 0) return [];
    const query = [...ids.map((id) => `id=${encodeURIComponent(id)}`), 'fields=id', 'fields=name'].join('&');
    const { security_groups: groups } = (await this.getJson(adapter, `/v2.0/security-groups?${query}`)) as { security_groups: SecurityGroup[] };
    const byId = new Map(groups.map((group) => [group.id, group]));
    return ports.flatMap((port) =>
      (port.security_groups ?? []).flatMap((id) => {
        const group = byId.get(id);
        return group === undefined ? [] : [group.name || group.id];
      }),
    );
  }

  private adapterFor(user: UserCredentials): Adapter {
    if (user.auth_token === null) {
      throw new ServiceCallFailed('GET /v2.0/ports', 'neutron', null, null, "the request context has no user token to call Neutron with");
    }
    return new Adapter(userTokenSource(user.auth_token, user.service_catalog), 'neutron', this.options);
  }

  private async getJson(adapter: Adapter, path: string): Promise<unknown> {
    const response = await adapter.request('GET', path);
    const call = `GET ${path.split('?')[0]}`;
    if (response.status !== 200) throw new ServiceCallFailed(call, 'neutron', response.status, null, await neutronError(response));
    return response.json();
  }
}
