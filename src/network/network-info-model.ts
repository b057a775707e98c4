/**
 * The network_info model (nova/network/model.py) built from Neutron's answers, as Nova's
 * API._build_vif_model, _nw_info_get_ips, _get_subnets_from_port, _nw_info_get_subnets and
 * _nw_info_build_network build it, then NetworkInfo.hydrate reshapes it: a pure function of the answers that
 * network-api.ts gathers. Every object has its keys in the order Nova's Model classes set them, so that
 * python-json's dumps() writes the same text as Nova's NetworkInfo.json(), which is what
 * InstanceInfoCache.network_info holds.
 */
import { BlockList, isIP } from 'node:net';
import type { NeutronFloatingIp, NeutronNetwork, NeutronPort, NeutronSegment, NeutronSubnet } from '../clients/neutron.js';
import type { JsonValue } from '../metadata/python-json.js';
import { NetworkRequestRefused } from './errors.js';

/** model.NIC_NAME_LEN: a Linux interface name's 15 bytes less the NUL. */
export const NIC_NAME_LEN = 14;
/** neutron/constants.py L3_NETWORK_TYPES: the tunneled network types. */
const L3_NETWORK_TYPES = ['vxlan', 'gre', 'geneve'];

export type IpModel = {
  address: string | null;
  type: string | null;
  version: 4 | 6 | null;
  meta: Record<string, JsonValue>;
};

export type FixedIpModel = IpModel & {
  floating_ips: IpModel[];
};

export type RouteModel = {
  cidr: string;
  gateway: IpModel;
  interface: null;
  meta: Record<string, JsonValue>;
};

export type SubnetModel = {
  cidr: string;
  dns: IpModel[];
  gateway: IpModel;
  ips: FixedIpModel[];
  routes: RouteModel[];
  version: 4 | 6;
  /** ipv6_address_mode, dhcp_server */
  meta: Record<string, JsonValue>;
};

export type NetworkModel = {
  id: string;
  bridge: string | null;
  label: string | null;
  subnets: SubnetModel[];
  /** injected, tenant_id, mtu, physical_network, tunneled, should_create_bridge */
  meta: Record<string, JsonValue>;
};

export type VifModel = {
  id: string;
  address: string;
  network: NetworkModel;
  type: string | null;
  details: Record<string, JsonValue>;
  devname: string;
  ovs_interfaceid: string | null;
  qbh_params: null;
  qbg_params: null;
  active: boolean;
  vnic_type: string;
  profile: Record<string, JsonValue>;
  preserve_on_delete: boolean;
  delegate_create: boolean;
  meta: Record<string, JsonValue>;
};

/** What _get_physnet_tunneled_info found for a port's network. */
export interface PhysnetInfo {
  physical_network: string | null;
  tunneled: boolean;
}

/** Everything Neutron answered about one port while its VIF was built, in the order Nova asks. */
export interface PortAnswers {
  /** The port as GET /v2.0/ports?tenant_id=T&device_id=U listed it. */
  port: NeutronPort;
  /** GET /v2.0/floatingips?fixed_ip_address=A&port_id=P for each of the port's fixed IPs, in order. */
  floatingIps: NeutronFloatingIp[][];
  /** GET /v2.0/subnets?id=... for the port's subnets, in Neutron's order (none without fixed IPs). */
  subnets: NeutronSubnet[];
  /** For each of those subnets: GET /v2.0/ports?network_id=N&device_owner=network:dhcp. */
  dhcpPorts: NeutronPort[][];
  physnet: PhysnetInfo;
}

export interface ModelOptions {
  /** [DEFAULT] flat_injected */
  injected: boolean;
  /** [neutron] ovs_bridge */
  ovsBridge: string;
}

/**
 * The first half of _get_physnet_tunneled_info (multi-provider networks): the physical network of the
 * first segment that has one; null when the network has no segments (then the provider attributes tell).
 * A network whose segments all lack one is Nova's NovaException.
 */
export function physnetFromSegments(networkId: string, segments: readonly NeutronSegment[] | undefined): PhysnetInfo | null {
  for (const segment of segments ?? []) {
    const physnet = segment['provider:physical_network'];
    if (physnet) return { physical_network: physnet, tunneled: false };
  }
  if (segments !== undefined && segments.length > 0) {
    throw new NetworkRequestRefused('NovaException', `None of the segments of network ${networkId} provides a physical_network`);
  }
  return null;
}

/** The second half: provider:physical_network, and whether provider:network_type is a tunnel. */
export function physnetFromProvider(network: Pick<NeutronNetwork, 'provider:physical_network' | 'provider:network_type'>): PhysnetInfo {
  return {
    physical_network: network['provider:physical_network'] ?? null,
    tunneled: L3_NETWORK_TYPES.includes(network['provider:network_type'] ?? ''),
  };
}

/** model.IP: the version from the address when it has one. */
function ip(address: string | null, type: string): IpModel {
  const version = address ? isIP(address) : 0;
  return { address, type, version: version === 4 || version === 6 ? version : null, meta: {} };
}

/** IP.__eq__ (address, type, version): Subnet.add_dns and FixedIP.add_floating_ip skip an equal one. */
function sameIp(a: IpModel, b: IpModel): boolean {
  return a.address === b.address && a.type === b.type && a.version === b.version;
}

function pushUnique<T>(list: T[], item: T, same: (a: T, b: T) => boolean): void {
  if (!list.some((existing) => same(existing, item))) list.push(item);
}

function cidrVersion(cidr: string): 4 | 6 {
  return isIP(cidr.split('/')[0]!) === 6 ? 6 : 4;
}

/** IP.is_in_subnet: netaddr.IPAddress(address) in netaddr.IPNetwork(cidr). */
function inSubnet(address: string, cidr: string): boolean {
  const [network, prefix] = cidr.split('/');
  const version = isIP(address);
  if (version === 0 || version !== isIP(network!)) return false;
  const type = version === 4 ? 'ipv4' : 'ipv6';
  const block = new BlockList();
  block.addSubnet(network!, prefix === undefined ? (version === 4 ? 32 : 128) : Number(prefix), type);
  return block.check(address, type);
}

/** _nw_info_get_ips: each fixed IP with its floating IPs. */
function fixedIps(answers: PortAnswers): FixedIpModel[] {
  return answers.port.fixed_ips.map((fixed, index) => {
    const floating: IpModel[] = [];
    for (const found of answers.floatingIps[index] ?? []) pushUnique(floating, ip(found.floating_ip_address, 'floating'), sameIp);
    return { ...ip(fixed.ip_address, 'fixed'), floating_ips: floating };
  });
}

/**
 * _get_subnets_from_port + _nw_info_get_subnets. dhcp_server is the address of the last DHCP port with one
 * in the subnet (Nova's loop breaks only its inner loop), else the gateway when the subnet has DHCP on.
 */
function subnets(answers: PortAnswers, ips: FixedIpModel[]): SubnetModel[] {
  if (answers.port.fixed_ips.length === 0) return [];
  return answers.subnets.map((subnet, index) => {
    const meta: Record<string, JsonValue> = {};
    if (subnet.ipv6_address_mode) meta['ipv6_address_mode'] = subnet.ipv6_address_mode;
    for (const dhcpPort of answers.dhcpPorts[index] ?? []) {
      const pair = dhcpPort.fixed_ips.find((fixed) => fixed.subnet_id === subnet.id);
      if (pair) meta['dhcp_server'] = pair.ip_address;
    }
    if (subnet.enable_dhcp && !('dhcp_server' in meta)) meta['dhcp_server'] = subnet.gateway_ip;
    const dns: IpModel[] = [];
    for (const address of subnet.dns_nameservers ?? []) pushUnique(dns, ip(address, 'dns'), sameIp);
    const routes: RouteModel[] = [];
    for (const route of subnet.host_routes ?? []) {
      // Route has no __eq__: add_route compares the whole dicts.
      pushUnique(routes, { cidr: route.destination, gateway: ip(route.nexthop, 'gateway'), interface: null, meta: {} }, (a, b) => JSON.stringify(a) === JSON.stringify(b));
    }
    return {
      cidr: subnet.cidr,
      dns,
      gateway: ip(subnet.gateway_ip, 'gateway'),
      ips: ips.filter((fixed) => inSubnet(fixed.address!, subnet.cidr)),
      routes,
      version: cidrVersion(subnet.cidr),
      meta,
    };
  });
}

/** _nw_info_build_network: the bridge by VIF type, then Network's meta (should_create_bridge last, as hydrate leaves it). */
function network(
  answers: PortAnswers,
  networks: readonly NeutronNetwork[],
  subnetModels: SubnetModel[],
  options: ModelOptions,
): { network: NetworkModel; ovsInterfaceId: string | null } {
  const { port } = answers;
  const known = networks.find((candidate) => candidate.id === port.network_id);
  const vifType = port['binding:vif_type'];
  const details = port['binding:vif_details'] ?? {};
  const bridgeName = (fallback: string): string | null => ('bridge_name' in details ? (details['bridge_name'] as string | null) : fallback);
  let bridge: string | null = null;
  let ovsInterfaceId: string | null = null;
  let shouldCreateBridge = false;
  if (vifType === 'ovs' || vifType === 'agilio_ovs' || (vifType === 'vhostuser' && details['vhostuser_ovs_plug'])) {
    bridge = bridgeName(options.ovsBridge);
    ovsInterfaceId = port.id;
  } else if (vifType === 'bridge') {
    bridge = bridgeName(`brq${port.network_id}`);
    shouldCreateBridge = true;
  } else if (vifType === 'dvs') {
    bridge = port.network_id;
  } else if (vifType === 'vhostuser' && details['vhostuser_fp_plug']) {
    bridge = bridgeName(`brq${port.network_id}`);
  }
  // The DVS port group's name is not pruned.
  if (bridge !== null && vifType !== 'dvs') bridge = bridge.slice(0, NIC_NAME_LEN);
  const meta: Record<string, JsonValue> = {
    injected: options.injected,
    tenant_id: known ? known.tenant_id : port.tenant_id,
    mtu: known?.mtu ?? null,
    physical_network: answers.physnet.physical_network,
    tunneled: answers.physnet.tunneled,
  };
  if (shouldCreateBridge) meta['should_create_bridge'] = true;
  return { network: { id: port.network_id, bridge, label: known ? known.name : null, subnets: subnetModels, meta }, ovsInterfaceId };
}

/** _build_vif_model: one port's VIF. */
export function buildVif(answers: PortAnswers, networks: readonly NeutronNetwork[], preexistingPortIds: readonly string[], options: ModelOptions): VifModel {
  const { port } = answers;
  const ips = fixedIps(answers);
  const built = network(answers, networks, subnets(answers, ips), options);
  return {
    id: port.id,
    address: port.mac_address,
    network: built.network,
    type: port['binding:vif_type'] ?? null,
    details: (port['binding:vif_details'] || {}) as Record<string, JsonValue>,
    devname: `tap${port.id}`.slice(0, NIC_NAME_LEN),
    ovs_interfaceid: built.ovsInterfaceId,
    qbh_params: null,
    qbg_params: null,
    active: port.admin_state_up === false || port.status === 'ACTIVE',
    vnic_type: port['binding:vnic_type'] ?? 'normal',
    profile: (port['binding:profile'] || {}) as Record<string, JsonValue>,
    preserve_on_delete: preexistingPortIds.includes(port.id),
    delegate_create: true,
    meta: {},
  };
}

/**
 * _build_network_info_model's loop: a VIF for each of `portIds` that Neutron still lists for the instance,
 * in that order; a port Neutron no longer lists is left out.
 */
export function buildNetworkInfo(
  portIds: readonly string[],
  answers: ReadonlyMap<string, PortAnswers>,
  networks: readonly NeutronNetwork[],
  preexistingPortIds: readonly string[],
  options: ModelOptions,
): VifModel[] {
  return portIds.flatMap((id) => {
    const found = answers.get(id);
    return found === undefined ? [] : [buildVif(found, networks, preexistingPortIds, options)];
  });
}
