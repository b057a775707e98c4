/**
 * One spelling per IP address, so that a fixed IP from the VIF model and the address a request came from
 * compare equal: IPv6 as inet_ntop writes it, and an IPv4-mapped IPv6 address (what a dual-stack socket
 * reports for an IPv4 peer) as the IPv4 address.
 */
import { BoundedMap } from '../bounded-map.js';
import { formatAddress, InvalidAddressError, parseIpNetwork } from '../metadata/ip-network.js';

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

function parseCanonical(text: string): string | null {
  const mapped = IPV4_MAPPED.exec(text);
  if (mapped) return parseCanonical(mapped[1]!);
  if (text.includes('/')) return null;
  try {
    const { version, ip } = parseIpNetwork(text, 'address');
    return formatAddress(version, ip);
  } catch (error) {
    if (error instanceof InvalidAddressError) return null;
    throw error;
  }
}

/**
 * Every metadata request asks for one or two addresses, and the same few come again and again (the
 * guests', the proxy's): parsing one (BigInt arithmetic) cost more than the rest of the request. Texts
 * longer than any address (45 characters) are not kept: a header cannot fill the memory.
 */
const canonicalForms = new BoundedMap<string, string | null>(4096);
const LONGEST_KEPT = 64;

/** null when the text is not a plain IPv4 or IPv6 address. */
export function canonicalAddress(text: string): string | null {
  const known = canonicalForms.get(text);
  if (known !== undefined) return known;
  const canonical = parseCanonical(text);
  if (text.length <= LONGEST_KEPT) canonicalForms.set(text, canonical);
  return canonical;
}

/** Loopback (127.0.0.0/8, ::1): the only peers whose X-Forwarded-For we believe. */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}
