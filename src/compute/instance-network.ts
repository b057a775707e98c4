/**
 * An instance's network as Nova's compute manager keeps it (nova/compute/manager.py _build_networks_for_instance,
 * _cleanup_allocated_networks, _try_deallocate_network, external_instance_event's network-changed): the
 * network API's answers (src/network/) saved in the instance's InstanceInfoCache through nova-conductor, as
 * nova.network.neutron's update_instance_cache_with_nw_info does, so that nova-api, the metadata and the next
 * operation see them.
 */
import { ServiceCallFailed } from '../clients/errors.js';
import { KeyedLock } from '../keyed-lock.js';
import type { ServiceCatalog } from '../clients/catalog.js';
import type { ConductorApi } from '../conductor/conductor-api.js';
import type { Logger } from '../log.js';
import type { InstanceCast } from '../nova/compute-casts.js';
import { isNoAllocate, requestedNetworksFromPrimitive, type NetworkRequest } from '../nova/requested-networks.js';
import { WireObject } from '../nova/wire-object.js';
import { NetworkRequestRefused } from '../network/errors.js';
import { cachedNetworkInfo, networkInfoOf, type NetworkAPI, type NetworkContext, type NetworkInfo, type NetworkInstance } from '../network/network-api.js';
import type { NetworkEventHandler } from './compute-manager.js';
import { OperationStopped, type InstanceBookkeeping } from './instance-bookkeeping.js';
import { OperationFailed } from './operation-failed.js';

/** The request context of a cast (`_context_*` keys, prefix stripped), as the network calls take it. */
export function networkContext(context: Record<string, unknown>): NetworkContext {
  const text = (key: string): string | null => (typeof context[key] === 'string' ? (context[key] as string) : null);
  const roles = Array.isArray(context['roles']) ? (context['roles'] as unknown[]).filter((role): role is string => typeof role === 'string') : [];
  return {
    auth_token: text('auth_token'),
    service_catalog: Array.isArray(context['service_catalog']) ? (context['service_catalog'] as ServiceCatalog) : [],
    global_request_id: text('global_request_id'),
    project_id: text('project_id'),
    user_id: text('user_id'),
    roles,
    is_admin: context['is_admin'] === true,
  };
}

/** The slice of an Instance the network layer reads; its info cache as given (`cache`), else the instance's own. */
export function networkInstance(instance: WireObject, cache?: unknown): NetworkInstance {
  const text = (field: string): string | null => (typeof instance.get(field) === 'string' ? (instance.get(field) as string) : null);
  const infoCache = instance.get('info_cache');
  const own = infoCache instanceof WireObject ? infoCache.get('network_info') : undefined;
  return {
    uuid: text('uuid') ?? '',
    project_id: text('project_id') ?? '',
    hostname: text('hostname') ?? '',
    availability_zone: text('availability_zone'),
    network_info: cachedNetworkInfo(cache === undefined ? own : cache),
  };
}

/** The empty network_info a deallocated instance's cache holds. */
const NO_NETWORK: NetworkInfo = networkInfoOf([]);

/** A network failure as the operation's: Neutron refusing is final, Neutron not answering may pass. */
function asFailure(uuid: string, operation: string, error: unknown): OperationFailed {
  if (error instanceof OperationFailed) return error;
  const transient = error instanceof ServiceCallFailed && error.retryable;
  const reason = error instanceof NetworkRequestRefused ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
  return new OperationFailed(uuid, 'network', transient, reason, { cause: error, operation });
}

export interface InstanceNetworkDeps {
  network: NetworkAPI;
  conductor: Pick<ConductorApi, 'objectAction' | 'classActionObject'>;
  /** [DEFAULT] host: where ports are bound. */
  host: string;
  log: Logger;
}

export class InstanceNetwork implements NetworkEventHandler {
  /**
   * Nova's refresh_cache-<uuid> lock: an instance's ports and cache change one at a time, so that a
   * network-changed arriving while the build allocates (Neutron sends one for the binding) reads the cache
   * the allocation saved, not the empty one before it, and does not write that back over it.
   */
  private readonly refreshing = new KeyedLock();

  constructor(private readonly deps: InstanceNetworkDeps) {}

  /** The build cast's requested_networks (NetworkRequestList), null when it had none. */
  static requested(args: Record<string, unknown>): NetworkRequest[] | null {
    return requestedNetworksFromPrimitive(args['requested_networks'] ?? null);
  }

  /**
   * _build_networks_for_instance: the instance's ports allocated and bound to this host, the cache saved. A
   * build that may have allocated them already (`mayBeAllocated`: a retried or redelivered one that got past
   * networking) takes the ports Neutron has for the instance, if any, instead of asking for them again (a
   * requested port would be "in use" by the instance itself). Null for network `none`: nothing allocated and
   * nothing saved, as _allocate_network_async returns early.
   */
  async allocate(book: InstanceBookkeeping, instance: WireObject, context: Record<string, unknown>, requested: NetworkRequest[] | null, securityGroups: string[], mayBeAllocated = false): Promise<NetworkInfo | null> {
    if (isNoAllocate(requested)) {
      this.deps.log.debug("Not allocating networking since 'none' was specified.", book.log);
      return null;
    }
    const network = this.deps.network;
    const target = networkInstance(instance, []);
    const info = await this.refreshing.run(book.uuid, async () => {
      const allocated = await this.call(book.uuid, 'build', async () => {
        const found = mayBeAllocated ? await network.getInstanceNwInfo(networkContext(context), target, { forceRefresh: true }) : null;
        if (found !== null && found.vifs.length > 0) return found;
        return network.allocateForInstance(networkContext(context), target, requested, this.deps.host, securityGroups);
      });
      await this.saveCache(book, allocated);
      return allocated;
    });
    this.deps.log.info(`network allocated: ${info.vifs.length} port(s)${info.vifs.length > 0 ? ` (${info.vifs.map((vif) => vif.id).join(', ')})` : ''}`, book.log);
    return info;
  }

  /**
   * _cleanup_allocated_networks / _try_deallocate_network: the instance's ports released (the ones made for it
   * deleted, the user's unbound), its cache emptied. `cache` is the instance's info cache when the caller read
   * it, else the instance's own (a build's: the ports it just allocated).
   */
  async deallocate(book: InstanceBookkeeping, instance: WireObject, context: Record<string, unknown>, requested: NetworkRequest[] | null, cache?: unknown): Promise<void> {
    if (isNoAllocate(requested)) {
      this.deps.log.debug('Skipping network deallocation for instance since networking was not requested.', book.log);
      return;
    }
    await this.refreshing.run(book.uuid, async () => {
      await this.call(book.uuid, 'deallocate', () => this.deps.network.deallocateForInstance(networkContext(context), networkInstance(instance, cache), requested));
      // deallocate_for_instance ends with an empty cache; an instance already gone has none to empty.
      await this.saveCache(book, NO_NETWORK).catch((error: unknown) => {
        if (!(error instanceof OperationStopped)) throw error;
      });
    });
    this.deps.log.info('network deallocated', book.log);
  }

  /** network-changed: the instance's cache rebuilt from Neutron, that port's VIF (or all) and saved. */
  async networkChanged(target: InstanceCast, tag: string | null): Promise<void> {
    const instance = WireObject.fromPrimitive(target.instance, 'instance', 'Instance');
    const info = await this.refreshing.run(target.uuid, async () => {
      // refresh_info_cache_for_instance: the cache as saved last, not as the cast carried it.
      const cache = await this.readCache(target);
      const refreshed = await this.call(target.uuid, 'network-changed', () =>
        this.deps.network.getInstanceNwInfo(networkContext(target.context), networkInstance(instance, cache), tag === null ? { forceRefresh: true } : { refreshVifId: tag }),
      );
      await this.deps.conductor.objectAction(cacheObject(target.uuid, refreshed), 'save', [], {}, target.context);
      return refreshed;
    });
    this.deps.log.info(`network info cache refreshed (network-changed${tag === null ? '' : ` ${tag}`}): ${info.vifs.length} port(s)`, { instance: target.uuid });
  }

  /** InstanceInfoCache.get_by_instance_uuid: the cache as Nova's database holds it (a cast may not carry it). */
  async readCache(target: Pick<InstanceCast, 'uuid' | 'context'>): Promise<unknown> {
    const cache = await this.deps.conductor.classActionObject('InstanceInfoCache', 'get_by_instance_uuid', 'InstanceInfoCache', [target.uuid], {}, target.context);
    return cache instanceof WireObject ? (cache.get('network_info') ?? null) : null;
  }

  private async saveCache(book: InstanceBookkeeping, info: NetworkInfo): Promise<void> {
    await book.objectAction(cacheObject(book.uuid, info), 'save');
  }

  private async call<T>(uuid: string, operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw asFailure(uuid, operation, error);
    }
  }
}

/** InstanceInfoCache.new(context, uuid) with network_info set: only network_info changed, as Nova saves it. */
function cacheObject(uuid: string, info: NetworkInfo): WireObject {
  const cache = new WireObject<{ instance_uuid: string; network_info: string }>('InstanceInfoCache', { instance_uuid: uuid });
  cache.resetChanges();
  cache.set('network_info', info.json);
  return cache;
}
