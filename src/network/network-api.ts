/**
 * What the compute side asks of the network (nova.network.neutron.API, the part a compute host uses):
 * allocate an instance's ports and bind them here, build or refresh its network_info, and release its ports.
 * Each answer is the network_info both as the JSON text Nova stores in InstanceInfoCache.network_info and as
 * the daemon's typed VIFs. Saving the cache, plugging and waiting for events are the caller's.
 */
import type { NeutronClient, UserCredentials } from '../clients/neutron.js';
import type { NovaConfig } from '../config/schema.js';
import { getLogger, type Logger } from '../log.js';
import { dumps, type JsonValue } from '../metadata/python-json.js';
import { parseJsonField } from '../nova/json-fields.js';
import { hydrateNetworkInfo } from '../nova/network-model.js';
import { isNoAllocate, type NetworkRequest } from '../nova/requested-networks.js';
import type { Vif } from '../nova/spawn-request.js';
import { allocateForInstance, type NetworkCalls } from './allocate.js';
import { deallocateForInstance } from './deallocate.js';
import { ExtensionCache } from './extensions.js';
import { buildInstanceNwInfo, type CachedVif, type NetworkInstance } from './instance-nw-info.js';

export type { CachedVif, NetworkInstance } from './instance-nw-info.js';

/** The request context as a cast carries it (`_context_*`), the slice the network calls use. */
export interface NetworkContext extends UserCredentials {
  project_id: string | null;
  user_id: string | null;
  /** policy network:attach_external_network is role:admin. */
  roles?: readonly string[];
  /** An admin context without a token calls Neutron with [neutron]'s credentials (_get_auth_plugin). */
  is_admin?: boolean;
}

/** network_info, as Nova stores it and as the daemon uses it. */
export interface NetworkInfo {
  /** NetworkInfo.json(): what InstanceInfoCache.network_info holds. */
  json: string;
  /** The same VIFs hydrated (hydrateNetworkInfo), for the domain XML, network_data.json and the metadata service. */
  vifs: Vif[];
}

export function networkInfoOf(model: readonly JsonValue[]): NetworkInfo {
  return { json: dumps(model), vifs: hydrateNetworkInfo(model, 'network_info') };
}

/**
 * InstanceInfoCache.network_info as an Instance primitive carries it (NetworkModel's JSON text; null or
 * absent: empty) -> the cached VIFs NetworkInstance takes. A cache the daemon could not use is refused
 * here, naming the field (InvalidComputeRequest), as hydrateNetworkInfo refuses it.
 */
export function cachedNetworkInfo(value: unknown, path = 'instance.info_cache.network_info'): CachedVif[] {
  if (value === null || value === undefined) return [];
  const parsed = typeof value === 'string' ? parseJsonField(value, path) : value;
  hydrateNetworkInfo(parsed, path);
  return parsed as CachedVif[];
}

export interface NetworkApiOptions {
  /** [DEFAULT] flat_injected */
  flat_injected: boolean;
  /** [neutron] ovs_bridge */
  ovs_bridge: string;
  /** [neutron] extension_sync_interval, seconds */
  extension_sync_interval: number;
  log?: Logger;
  now?: () => number;
}

/** The options from nova.conf: [DEFAULT] flat_injected, [neutron] ovs_bridge and extension_sync_interval. */
export function networkApiOptions(config: { DEFAULT: Pick<NovaConfig['DEFAULT'], 'flat_injected'>; neutron: Pick<NovaConfig['neutron'], 'ovs_bridge' | 'extension_sync_interval'> }): NetworkApiOptions {
  return { flat_injected: config.DEFAULT.flat_injected, ovs_bridge: config.neutron.ovs_bridge, extension_sync_interval: config.neutron.extension_sync_interval };
}

export class NetworkAPI {
  private readonly extensions: ExtensionCache;
  private readonly log: Logger;

  constructor(
    private readonly neutron: NeutronClient,
    private readonly options: NetworkApiOptions,
  ) {
    this.extensions = new ExtensionCache(options.extension_sync_interval * 1000, options.now);
    this.log = options.log ?? getLogger('nova_spawnd.network');
  }

  private calls(context: NetworkContext): NetworkCalls {
    return {
      user: context.auth_token === null && context.is_admin ? this.neutron.asAdmin(context) : this.neutron.asUser(context),
      admin: this.neutron.asAdmin(context),
      extensions: this.extensions,
      model: { injected: this.options.flat_injected, ovsBridge: this.options.ovs_bridge },
      log: this.log,
    };
  }

  /**
   * allocate_for_instance(context, instance, requested_networks, security_groups, bind_host_id=host): the
   * ports checked or created and bound to `host`. `none` allocates nothing (Nova's manager skips the call).
   * Fails with NetworkRequestRefused (not retryable) or ServiceCallFailed (retryable by its status), with
   * whatever it created deleted and the passed-in ports unbound again.
   */
  async allocateForInstance(
    context: NetworkContext,
    instance: NetworkInstance,
    requestedNetworks: readonly NetworkRequest[] | null,
    host: string,
    securityGroups: readonly string[],
  ): Promise<NetworkInfo> {
    if (isNoAllocate(requestedNetworks)) return networkInfoOf([]);
    const mayAttachExternal = (context.roles ?? []).some((role) => role.toLowerCase() === 'admin');
    return networkInfoOf(
      await allocateForInstance(this.calls(context), instance, { requestedNetworks, host, securityGroups, mayAttachExternal }),
    );
  }

  /**
   * get_instance_nw_info: the cache's ports rebuilt from Neutron (`forceRefresh`: Neutron's ports for the
   * instance instead), or only one port's VIF (`refreshVifId`, for network-changed). `preexistingPortIds`:
   * ports to keep as the user's (preserve_on_delete) besides the cache's, e.g. a retried build's requested ports.
   */
  async getInstanceNwInfo(
    context: NetworkContext,
    instance: NetworkInstance,
    refresh: { refreshVifId?: string; forceRefresh?: boolean; preexistingPortIds?: readonly string[] } = {},
  ): Promise<NetworkInfo> {
    const calls = this.calls(context);
    const request =
      refresh.refreshVifId !== undefined
        ? { kind: 'port' as const, portId: refresh.refreshVifId }
        : { kind: 'refresh' as const, force: refresh.forceRefresh ?? false, preexistingPortIds: refresh.preexistingPortIds ?? [] };
    return networkInfoOf(await buildInstanceNwInfo(calls.admin, this.extensions, instance, calls.model, request));
  }

  /**
   * deallocate_for_instance: ports created for the instance deleted, passed-in ports (the failed build's
   * requested ones, the cache's preserve_on_delete ones) unbound; a port already gone is no failure. The
   * instance's network_info is then empty (the caller saves `[]`).
   */
  async deallocateForInstance(context: NetworkContext, instance: NetworkInstance, requestedNetworks: readonly NetworkRequest[] | null = null): Promise<void> {
    await deallocateForInstance(this.calls(context), instance, requestedNetworks);
  }
}
