/**
 * The I/O half of Nova's _build_network_info_model: which ports and networks to ask Neutron about, and
 * what it answers for each port, handed to the pure builder (network-info-model.ts). Every call is made as
 * the service, as Nova does (admin_client).
 */
import type { NeutronCalls, NeutronNetwork, NeutronPort, Query } from '../clients/neutron.js';
import type { JsonValue } from '../metadata/python-json.js';
import { MULTI_PROVIDER, type ExtensionCache } from './extensions.js';
import { buildVif, physnetFromProvider, physnetFromSegments, type ModelOptions, type PortAnswers, type PhysnetInfo } from './network-info-model.js';

export type NeutronReads = Pick<NeutronCalls, 'listPorts' | 'listFloatingIps' | 'listSubnets' | 'showNetwork' | 'listNetworks' | 'listExtensions'>;

/** A VIF of InstanceInfoCache.network_info as Nova stored it (JSON-decoded), kept as it is where Nova keeps it. */
export type CachedVif = { readonly [key: string]: JsonValue };

/** What the network layer needs of an Instance. */
export interface NetworkInstance {
  uuid: string;
  project_id: string;
  hostname: string;
  availability_zone: string | null;
  /** info_cache.network_info, decoded; [] when empty. */
  network_info: readonly CachedVif[];
}

function field(value: JsonValue | undefined, key: string): JsonValue | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) ? (value as Record<string, JsonValue>)[key] : undefined;
}

/** _get_preexisting_port_ids: the cached VIFs whose port the user passed in. */
export function preexistingPortIds(instance: NetworkInstance): string[] {
  return instance.network_info.filter((vif) => vif['preserve_on_delete'] === true).map((vif) => String(vif['id']));
}

/** _ensure_requested_network_ordering: networks in the order of `preferred` (stable, first index of each id). */
function ordered<T extends { id: string }>(items: T[], preferred: readonly string[]): T[] {
  if (preferred.length === 0) return items;
  return [...items].sort((a, b) => preferred.indexOf(a.id) - preferred.indexOf(b.id));
}

/**
 * _get_available_networks: the requested networks by id; none requested, the project's own networks (only
 * those up, for auto-allocation) and then the shared ones.
 */
export async function availableNetworks(
  client: Pick<NeutronCalls, 'listNetworks'>,
  projectId: string,
  netIds: readonly string[],
  autoAllocate = false,
): Promise<NeutronNetwork[]> {
  if (netIds.length > 0) return ordered(await client.listNetworks([['id', netIds]]), netIds);
  const query: Query = [['tenant_id', projectId], ['shared', false]];
  // The auto-allocated topology is built in steps: only what is up is ready to use.
  if (autoAllocate) query.push(['admin_state_up', true]);
  const own = await client.listNetworks(query);
  return [...own, ...(await client.listNetworks([['shared', true]]))];
}

/** _get_physnet_tunneled_info: the segments first where Neutron has multi-provider networks, else the provider attributes. */
async function physnetOf(client: NeutronReads, extensions: ExtensionCache, networkId: string): Promise<PhysnetInfo> {
  if (await extensions.has(MULTI_PROVIDER, client)) {
    const fromSegments = physnetFromSegments(networkId, (await client.showNetwork(networkId, ['segments'])).segments);
    if (fromSegments !== null) return fromSegments;
  }
  return physnetFromProvider(await client.showNetwork(networkId, ['provider:physical_network', 'provider:network_type']));
}

/** What _build_vif_model asks Neutron about one port, in Nova's order. */
export async function gatherPortAnswers(client: NeutronReads, extensions: ExtensionCache, port: NeutronPort): Promise<PortAnswers> {
  const floatingIps = [];
  for (const fixed of port.fixed_ips) floatingIps.push(await client.listFloatingIps([['fixed_ip_address', fixed.ip_address], ['port_id', port.id]]));
  const subnetIds = [...new Set(port.fixed_ips.map((fixed) => fixed.subnet_id))];
  const subnets = subnetIds.length === 0 ? [] : await client.listSubnets([['id', subnetIds]]);
  const dhcpPorts = [];
  for (const subnet of subnets) dhcpPorts.push(await client.listPorts([['network_id', subnet.network_id], ['device_owner', 'network:dhcp']]));
  return { port, floatingIps, subnets, dhcpPorts, physnet: await physnetOf(client, extensions, port.network_id) };
}

/** How _build_network_info_model is asked: for ports just allocated, for the whole cache, or for one port. */
export type NwInfoRequest =
  /** allocate_for_instance: the networks and ports it processed, in request order. */
  | { kind: 'allocated'; networks: readonly NeutronNetwork[]; portIds: readonly string[]; preexistingPortIds: readonly string[] }
  /**
   * _heal_instance_info_cache and the like: the cache's ports; force: Neutron's ports for the instance.
   * preexistingPortIds: ports known to be the user's besides the cache's (_build_network_info_model's
   * preexisting_port_ids), e.g. a retried build's requested ports.
   */
  | { kind: 'refresh'; force: boolean; preexistingPortIds?: readonly string[] }
  /** network-changed for one port: that VIF of the cache rebuilt, added or dropped. */
  | { kind: 'port'; portId: string };

/**
 * _build_network_info_model: the instance's VIFs (Nova's NetworkInfo, hydrated) as plain JSON values.
 * A forced refresh orders the ports as Neutron lists them (Nova orders them by its virtual_interfaces
 * rows, which a compute cannot read).
 */
export async function buildInstanceNwInfo(
  client: NeutronReads,
  extensions: ExtensionCache,
  instance: NetworkInstance,
  options: ModelOptions,
  request: NwInfoRequest,
): Promise<JsonValue[]> {
  const current = await client.listPorts([['tenant_id', instance.project_id], ['device_id', instance.uuid]]);
  const byId = new Map(current.map((port) => [port.id, port]));
  const preexisting = [...new Set([...(request.kind === 'port' ? [] : (request.preexistingPortIds ?? [])), ...preexistingPortIds(instance)])];
  const cached = instance.network_info;
  const vifOf = async (port: NeutronPort, networks: readonly NeutronNetwork[]) =>
    buildVif(await gatherPortAnswers(client, extensions, port), networks, preexisting, options) as unknown as JsonValue;

  if (request.kind === 'port' && cached.length > 0) {
    const port = byId.get(request.portId);
    const nwInfo: JsonValue[] = [...cached];
    const index = cached.findIndex((vif) => vif['id'] === request.portId);
    if (port === undefined) {
      if (index >= 0) nwInfo.splice(index, 1);
      return nwInfo;
    }
    const vif = await vifOf(port, await availableNetworks(client, instance.project_id, [port.network_id]));
    if (index >= 0) nwInfo[index] = vif;
    else nwInfo.push(vif);
    return nwInfo;
  }

  let networks: NeutronNetwork[];
  let portIds: string[];
  if (request.kind === 'allocated') {
    // _gather_port_ids_and_networks: the cache's interfaces are kept, ahead of the new ones.
    const knownNetworks = new Set(request.networks.map((network) => network.id));
    const fromCache = cached
      .filter((vif) => !knownNetworks.has(String(field(vif['network'], 'id'))))
      .map((vif) => ({
        id: String(field(vif['network'], 'id')),
        name: field(vif['network'], 'label') as string,
        tenant_id: field(field(vif['network'], 'meta'), 'tenant_id') as string,
      }));
    networks = [...request.networks, ...fromCache];
    portIds = [...cached.map((vif) => String(vif['id'])).filter((id) => !request.portIds.includes(id)), ...request.portIds];
  } else if (request.kind === 'refresh' && request.force) {
    portIds = current.map((port) => port.id);
    networks = await availableNetworks(client, instance.project_id, portIds.map((id) => byId.get(id)!.network_id));
  } else {
    portIds = cached.map((vif) => String(vif['id']));
    networks = await availableNetworks(client, instance.project_id, cached.map((vif) => String(field(vif['network'], 'id'))));
  }
  const nwInfo: JsonValue[] = [];
  for (const id of portIds) {
    const port = byId.get(id);
    if (port !== undefined) nwInfo.push(await vifOf(port, networks));
  }
  return nwInfo;
}
