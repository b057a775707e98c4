import { isIP } from 'node:net';
import { InvalidComputeRequest } from './invalid-compute-request.js';
import { childPath, expectBoolean, expectList, expectObject, Fields, type JsonObject } from './json-fields.js';
import type { FixedIp, Network, Route, Subnet, Vif } from './spawn-request.js';

/**
 * nova.network.model's hydrate(): the VIF list that InstanceInfoCache.network_info carries as JSON, back to
 * typed VIFs. Like Nova's Model classes, every model takes its known keys and folds the rest into `meta`
 * (Model._set_meta); missing keys take the constructors' defaults. Stricter than Nova only where the
 * daemon cannot do without a value: a VIF needs an id, a MAC, a type and a network; subnets need a CIDR;
 * fixed, floating and DNS IPs need an address.
 */
export function hydrateNetworkInfo(value: unknown, path: string): Vif[] {
  return expectList(value, path).map((vif, index) => hydrateVif(vif, childPath(path, index)));
}

const VIF_KEYS = [
  'id', 'address', 'network', 'type', 'details', 'devname', 'ovs_interfaceid', 'qbh_params', 'qbg_params',
  'active', 'vnic_type', 'profile', 'preserve_on_delete', 'delegate_create', 'meta',
];
const NETWORK_KEYS = ['id', 'bridge', 'label', 'subnets', 'meta'];
const SUBNET_KEYS = ['cidr', 'dns', 'gateway', 'ips', 'routes', 'version', 'meta'];

/** Model._set_meta: `meta` plus every keyword the model does not know. */
function meta(fields: Fields, known: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = { ...(fields.has('meta') ? expectObject(fields.raw('meta'), fields.at('meta')) : {}) };
  for (const [key, value] of Object.entries(fields.data)) {
    if (!known.includes(key)) result[key] = value;
  }
  return result;
}

/** Nova writes `x or default` for lists and dicts: null and absent both mean empty. */
function listOrEmpty(fields: Fields, key: string): unknown[] {
  const value = fields.raw(key) ?? null;
  return value === null ? [] : expectList(value, fields.at(key));
}

function hydrateVif(value: unknown, path: string): Vif {
  const fields = Fields.of(value, path);
  const network = fields.raw('network') ?? null;
  if (network === null) throw new InvalidComputeRequest(fields.at('network'), network, 'is missing: a VIF without a network cannot be plugged');
  const details = fields.raw('details') ?? null;
  const active = fields.raw('active') ?? false;
  return {
    id: fields.string('id'),
    address: fields.string('address'),
    type: fields.string('type'),
    devname: fields.nullableString('devname'),
    vnic_type: fields.string('vnic_type', 'normal'),
    network: hydrateNetwork(network, fields.at('network')),
    details: details === null ? {} : expectObject(details, fields.at('details')),
    meta: meta(fields, VIF_KEYS),
    active: expectBoolean(active, fields.at('active')),
    delegate_create: expectBoolean(fields.raw('delegate_create') ?? false, fields.at('delegate_create')),
    preserve_on_delete: expectBoolean(fields.raw('preserve_on_delete') ?? false, fields.at('preserve_on_delete')),
  };
}

function hydrateNetwork(value: unknown, path: string): Network {
  const fields = Fields.of(value, path);
  return {
    id: fields.string('id'),
    bridge: fields.nullableString('bridge'),
    label: fields.nullableString('label'),
    subnets: listOrEmpty(fields, 'subnets').map((subnet, index) => hydrateSubnet(subnet, childPath(fields.at('subnets'), index))),
    meta: meta(fields, NETWORK_KEYS),
  };
}

function hydrateSubnet(value: unknown, path: string): Subnet {
  const fields = Fields.of(value, path);
  const cidr = fields.string('cidr');
  const gateway = fields.raw('gateway') ?? null;
  return {
    cidr,
    version: ipVersion(fields, cidrAddress(cidr, fields.at('cidr')), 'cidr'),
    gateway: isFalsyModel(gateway) ? null : { address: hydrateIpAddress(gateway, fields.at('gateway')) },
    ips: listOrEmpty(fields, 'ips').map((ip, index) => hydrateFixedIp(ip, childPath(fields.at('ips'), index))),
    dns: listOrEmpty(fields, 'dns').map((dns, index) => ({ address: requiredAddress(dns, childPath(fields.at('dns'), index)) })),
    routes: listOrEmpty(fields, 'routes').map((route, index) => hydrateRoute(route, childPath(fields.at('routes'), index))),
    meta: meta(fields, SUBNET_KEYS),
  };
}

function hydrateFixedIp(value: unknown, path: string): FixedIp {
  const fields = Fields.of(value, path);
  const address = fields.string('address');
  return {
    address,
    // FixedIP: a falsy type becomes 'fixed'.
    type: fields.nullableString('type') || 'fixed',
    version: ipVersion(fields, address, 'address'),
    floating_ips: listOrEmpty(fields, 'floating_ips').map((ip, index) => ({
      address: requiredAddress(ip, childPath(fields.at('floating_ips'), index)),
    })),
  };
}

function hydrateRoute(value: unknown, path: string): Route {
  const fields = Fields.of(value, path);
  const gateway = fields.raw('gateway') ?? null;
  return {
    cidr: fields.string('cidr'),
    gateway: { address: isFalsyModel(gateway) ? null : hydrateIpAddress(gateway, fields.at('gateway')) },
  };
}

/** IP.hydrate returns None for a falsy dict, so `{}` is "no gateway" like null. */
function isFalsyModel(value: unknown): boolean {
  return value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as JsonObject).length === 0);
}

function hydrateIpAddress(value: unknown, path: string): string | null {
  const fields = Fields.of(value, path);
  const address = fields.nullableString('address');
  if (address !== null) ipVersion(fields, address, 'address');
  return address;
}

function requiredAddress(value: unknown, path: string): string {
  const fields = Fields.of(value, path);
  const address = fields.string('address');
  ipVersion(fields, address, 'address');
  return address;
}

/** IP and Subnet take `version` when given, else derive it from the address (netaddr). */
function ipVersion(fields: Fields, address: string, addressKey: string): 4 | 6 {
  const given = fields.raw('version') ?? null;
  const derived = isIP(address);
  if (derived !== 4 && derived !== 6) throw new InvalidComputeRequest(fields.at(addressKey), address, 'is not an IP address');
  if (given === null) return derived;
  if (given !== 4 && given !== 6) throw new InvalidComputeRequest(fields.at('version'), given, 'must be 4 or 6');
  if (given !== derived) throw new InvalidComputeRequest(fields.at('version'), given, `does not match the address ${address}`);
  return given;
}

function cidrAddress(cidr: string, path: string): string {
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(cidr);
  const address = match?.[1] ?? '';
  const version = isIP(address);
  const prefix = match?.[2] === undefined ? null : Number(match[2]);
  if (version === 0 || (prefix !== null && prefix > (version === 4 ? 32 : 128))) {
    throw new InvalidComputeRequest(path, cidr, 'is not a CIDR');
  }
  return address;
}
