/**
 * network_data.json (nova/virt/netutils.py get_network_metadata) and the EC2 address summary
 * (get_ec2_ip_info), from the VIF model of the instance's info cache.
 */
import type { Subnet, Vif } from '../nova/spawn-request.js';
import { netmask, networkAddress, parseIpNetwork } from './ip-network.js';
import type { JsonValue } from './python-json.js';
import { firstSubnet, guestNetmask, pythonTruthy, subnetMeta } from './vif-model.js';

/** nova.network.model.LEGACY_EXPOSED_VIF_TYPES: link types shown as they are; every other is "phy". */
const LEGACY_EXPOSED_VIF_TYPES: ReadonlySet<string> = new Set([
  'bridge',
  'dvs',
  'hw_veb',
  'hyperv',
  'ovs',
  'tap',
  'vhostuser',
  'vif',
]);

export class InvalidNetworkInfoError extends Error {
  override readonly name = 'InvalidNetworkInfoError';
  constructor(readonly field: string, readonly value: unknown, reason: string) {
    super(`${field}: ${reason} (got ${JSON.stringify(value)})`);
  }
}

type Link = { id: string; vif_id: string; type: string; mtu: JsonValue; ethernet_mac_address: string };
type Route = { network: string; netmask: string; gateway: string | null };
type DnsService = { type: 'dns'; address: string };
type NetworkEntry = { [key: string]: JsonValue };

/** A value from the model's free-form meta dicts, checked to be something json.dumps() writes. */
function jsonValue(value: unknown, field: string): JsonValue {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value as JsonValue;
  throw new InvalidNetworkInfoError(field, value, 'expected a string, number, boolean or null');
}

function linkMtu(vif: Vif, field: string): JsonValue {
  // A DHCP server hands out its own MTU.
  if (vif.network.subnets.some((subnet) => pythonTruthy(subnetMeta(subnet, 'dhcp_server')))) return null;
  return jsonValue(vif.network.meta['mtu'] ?? null, `${field}.network.meta.mtu`);
}

function ethLink(vif: Vif, interfaceNumber: number, field: string): Link {
  return {
    id: vif.devname || `interface${interfaceNumber}`,
    vif_id: vif.id,
    type: LEGACY_EXPOSED_VIF_TYPES.has(vif.type) ? vif.type : 'phy',
    mtu: linkMtu(vif, field),
    ethernet_mac_address: vif.address,
  };
}

function defaultRoutes(version: 4 | 6, subnet: Subnet): Route[] {
  const gateway = subnet.gateway?.address;
  if (!gateway) return [];
  const any = version === 4 ? '0.0.0.0' : '::';
  return [{ network: any, netmask: any, gateway }];
}

function dnsServices(subnet: Subnet): DnsService[] {
  return subnet.dns.map((dns) => ({ type: 'dns', address: dns.address }));
}

/** _get_nets for one subnet that has addresses. */
function networkEntry(vif: Vif, subnet: Subnet, version: 4 | 6, networkNumber: number, linkId: string, field: string): NetworkEntry {
  const id = `network${networkNumber}`;
  const addressMode = subnetMeta(subnet, 'ipv6_address_mode');
  if (addressMode === null && subnetMeta(subnet, 'dhcp_server') !== null) {
    return { id, type: `ipv${version}_dhcp`, link: linkId, network_id: vif.network.id };
  }
  const type = addressMode === null ? `ipv${version}` : `ipv${version}_${String(addressMode)}`;
  const ip = subnet.ips[0]!;
  const cidrField = `${field}.cidr`;
  const mask = version === 4 ? guestNetmask(ip, subnet, cidrField) : netmask(parseIpNetwork(subnet.cidr, cidrField));
  const routes = defaultRoutes(version, subnet);
  subnet.routes.forEach((route, index) => {
    const destination = parseIpNetwork(route.cidr, `${field}.routes[${index}].cidr`);
    routes.push({ network: networkAddress(destination), netmask: netmask(destination), gateway: route.gateway.address });
  });
  return {
    id,
    type,
    link: linkId,
    ip_address: ip.address,
    netmask: mask,
    routes,
    network_id: vif.network.id,
    services: dnsServices(subnet),
  };
}

/** get_network_metadata: null (served as {}) without network info. */
export function networkMetadata(networkInfo: readonly Vif[]): { [key: string]: JsonValue } | null {
  if (networkInfo.length === 0) return null;
  const links: Link[] = [];
  const networks: NetworkEntry[] = [];
  const services: DnsService[] = [];
  let interfaceNumber = -1;
  let networkNumber = -1;

  // Nova checks a subnet's servers against those listed before that subnet only, so a server repeated
  // inside one subnet stays repeated.
  const addServices = (subnet: Subnet): void => {
    const fresh = dnsServices(subnet).filter((dns) => !services.some((known) => known.address === dns.address));
    services.push(...fresh);
  };

  networkInfo.forEach((vif, vifIndex) => {
    const field = `network_info[${vifIndex}]`;
    if (vif.network.subnets.length === 0) return;
    const subnets = { 4: firstSubnet(vif, 4), 6: firstSubnet(vif, 6) };
    interfaceNumber++;
    if (!subnets[4] && !subnets[6]) return;
    const link = ethLink(vif, interfaceNumber, field);
    links.push(link);
    for (const version of [4, 6] as const) {
      const subnet = subnets[version];
      if (!subnet || subnet.ips.length === 0) continue;
      networkNumber++;
      const subnetField = `${field}.network.subnets[${vif.network.subnets.indexOf(subnet)}]`;
      networks.push(networkEntry(vif, subnet, version, networkNumber, link.id, subnetField));
      addServices(subnet);
    }
  });
  return { links, networks, services };
}

export interface Ec2IpInfo {
  fixed_ips: string[];
  fixed_ip6s: string[];
  floating_ips: string[];
}

/** get_ec2_ip_info: every fixed address of every subnet, in VIF order, and their floating addresses. */
export function ec2IpInfo(networkInfo: readonly Vif[]): Ec2IpInfo {
  const fixedIps = networkInfo.flatMap((vif) => vif.network.subnets.flatMap((subnet) => subnet.ips));
  return {
    fixed_ips: fixedIps.filter((ip) => ip.version === 4).map((ip) => ip.address),
    fixed_ip6s: fixedIps.filter((ip) => ip.version === 6).map((ip) => ip.address),
    floating_ips: fixedIps.flatMap((ip) => ip.floating_ips.map((floating) => floating.address)),
  };
}
