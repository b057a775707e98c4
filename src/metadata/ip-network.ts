/**
 * The slice of netaddr.IPNetwork that network_data.json and the injected interfaces file print: netmask,
 * network address and broadcast of a CIDR, formatted as netaddr formats them (IPv6 through glibc's
 * inet_ntop: the longest run of two or more zero groups becomes "::", the first run on a tie, and
 * IPv4-compatible or IPv4-mapped addresses end in dotted quad).
 */

export class InvalidAddressError extends Error {
  override readonly name = 'InvalidAddressError';
  constructor(readonly field: string, readonly value: string) {
    super(`${field}: ${JSON.stringify(value)} is not an IPv4 or IPv6 address or network`);
  }
}

export interface IpNetwork {
  version: 4 | 6;
  /** The address as written before the prefix (host bits kept, as netaddr's .ip). */
  ip: bigint;
  prefixlen: number;
}

const WIDTH = { 4: 32, 6: 128 } as const;

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseGroups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1 && part.includes('.')) {
      const ipv4 = parseIpv4(part);
      if (ipv4 === null) return null;
      groups.push(Number(ipv4 >> 16n), Number(ipv4 & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail].reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** netaddr.IPNetwork(text): "address/prefixlen" or a bare address (a host network). */
export function parseIpNetwork(text: string, field: string): IpNetwork {
  const [address, prefix, ...rest] = text.split('/');
  if (rest.length > 0 || address === undefined) throw new InvalidAddressError(field, text);
  const ipv4 = parseIpv4(address);
  const version = ipv4 !== null ? 4 : 6;
  const ip = ipv4 ?? parseIpv6(address);
  if (ip === null) throw new InvalidAddressError(field, text);
  if (prefix === undefined) return { version, ip, prefixlen: WIDTH[version] };
  if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > WIDTH[version]) throw new InvalidAddressError(field, text);
  return { version, ip, prefixlen: Number(prefix) };
}

function maskOf(network: IpNetwork): bigint {
  const width = BigInt(WIDTH[network.version]);
  const hostBits = width - BigInt(network.prefixlen);
  return ((1n << width) - 1n) ^ ((1n << hostBits) - 1n);
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** glibc inet_ntop(AF_INET6): what netaddr's str() prints. */
function formatIpv6(value: bigint): string {
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((value >> shift) & 0xffffn));
  let best = { base: -1, length: 0 };
  let current = { base: -1, length: 0 };
  groups.forEach((group, index) => {
    if (group !== 0) {
      current = { base: -1, length: 0 };
      return;
    }
    current = current.base === -1 ? { base: index, length: 1 } : { base: current.base, length: current.length + 1 };
    if (current.length > best.length) best = current;
  });
  if (best.length < 2) best = { base: -1, length: 0 };

  let out = '';
  for (let index = 0; index < 8; index++) {
    if (index >= best.base && index < best.base + best.length) {
      if (index === best.base) out += ':';
      continue;
    }
    if (index !== 0) out += ':';
    if (index === 6 && best.base === 0 && (best.length === 6 || (best.length === 5 && groups[5] === 0xffff))) {
      return out + formatIpv4(value & 0xffffffffn);
    }
    out += groups[index]!.toString(16);
  }
  if (best.base !== -1 && best.base + best.length === 8) out += ':';
  return out;
}

export function formatAddress(version: 4 | 6, value: bigint): string {
  return version === 4 ? formatIpv4(value) : formatIpv6(value);
}

/** str(IPNetwork.netmask) */
export function netmask(network: IpNetwork): string {
  return formatAddress(network.version, maskOf(network));
}

/** str(IPNetwork.network): the address with its host bits cleared. */
export function networkAddress(network: IpNetwork): string {
  return formatAddress(network.version, network.ip & maskOf(network));
}

/** IPNetwork.broadcast (netaddr 0.8): None (null) for the IPv4 networks /31 and /32 only. */
export function broadcast(network: IpNetwork): string | null {
  const hostBits = WIDTH[network.version] - network.prefixlen;
  if (network.version === 4 && hostBits <= 1) return null;
  return formatAddress(network.version, network.ip | ((1n << BigInt(hostBits)) - 1n));
}
