/**
 * keystoneauth's Adapter: one service (service_type, interfaces, region, or endpoint_override) called with a
 * Session's token. A 401 makes the session fetch a new token, and the call is sent once more with it.
 */
import type { KsaAdapterOptions } from '../config/schema.js';
import { describeFilter, selectEndpoint } from './catalog.js';
import { EndpointNotFound, ServiceCallFailed, networkReason } from './errors.js';
import type { Access, TokenSource } from './session.js';

export interface ServiceRequest {
  /** JSON body; undefined sends none. */
  json?: unknown;
  headers?: Record<string, string>;
}

export class Adapter {
  constructor(
    readonly session: TokenSource,
    /** The section the adapter options come from (may differ from the session's: Glance uses [service_user]'s). */
    readonly section: string,
    readonly options: KsaAdapterOptions,
  ) {}

  /** endpoint_override, else admin_token's endpoint, else the catalog's, without a trailing slash. */
  endpointOf(access: Access): string {
    const url = this.options.endpoint_override ?? access.endpoint ?? selectEndpoint(access.catalog ?? [], this.options);
    if (url === null) throw new EndpointNotFound(this.section, describeFilter(this.options));
    return url.replace(/\/+$/, '');
  }

  /** Sends `method path` to the service; answers every status (the caller judges it), fails only without one. */
  async request(method: string, path: string, request: ServiceRequest = {}): Promise<Response> {
    const first = await this.send(method, path, request, await this.session.getAccess());
    if (first.response.status !== 401 || !this.session.invalidate(first.token)) return first.response;
    await first.response.body?.cancel();
    return (await this.send(method, path, request, await this.session.getAccess())).response;
  }

  private async send(method: string, path: string, request: ServiceRequest, access: Access): Promise<{ response: Response; token: string }> {
    const headers: Record<string, string> = { Accept: 'application/json', 'X-Auth-Token': access.token, ...request.headers };
    if (request.json !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const response = await fetch(`${this.endpointOf(access)}${path}`, {
        method,
        headers,
        ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
        signal: AbortSignal.timeout(this.session.timeoutMs),
      });
      return { response, token: access.token };
    } catch (error) {
      if (error instanceof EndpointNotFound) throw error;
      throw new ServiceCallFailed(`${method} ${path}`, this.section, null, null, networkReason(error));
    }
  }
}
