/** Nova's reads of the VIF model (nova/network/model.py and netutils helpers) that several documents share. */
import type { FixedIp, Subnet, Vif } from '../nova/spawn-request.js';
import { netmask, parseIpNetwork } from './ip-network.js';

/**
 * Python's truth test for values out of the model's free-form meta dicts: Nova writes `if meta.get(k)`,
 * and an empty list or dict is false there while JavaScript calls it true.
 */
export function pythonTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/** Subnet.get_meta(key): a missing key is None (null). */
export function subnetMeta(subnet: Subnet, key: string): unknown {
  return subnet.meta[key] ?? null;
}

/** netutils._get_first_network: the first subnet of an IP version. */
export function firstSubnet(vif: Vif, version: 4 | 6): Subnet | undefined {
  return vif.network.subnets.find((subnet) => subnet.version === version);
}

/** model.get_netmask: a dotted netmask for an IPv4 address, the subnet's prefix length otherwise. */
export function guestNetmask(ip: FixedIp, subnet: Subnet, field: string): string | number {
  const network = parseIpNetwork(subnet.cidr, field);
  return ip.version === 4 ? netmask(network) : network.prefixlen;
}
