/**
 * One spelling per IP address, so that a fixed IP from the VIF model and the address a request came from
 * compare equal: IPv6 as inet_ntop writes it, and an IPv4-mapped IPv6 address (what a dual-stack socket
 * reports for an IPv4 peer) as the IPv4 address.
 */
import { formatAddress, InvalidAddressError, parseIpNetwork } from '../metadata/ip-network.js';

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** null when the text is not a plain IPv4 or IPv6 address. */
export function canonicalAddress(text: string): string | null {
  const mapped = IPV4_MAPPED.exec(text);
  if (mapped) return canonicalAddress(mapped[1]!);
  if (text.includes('/')) return null;
  try {
    const { version, ip } = parseIpNetwork(text, 'address');
    return formatAddress(version, ip);
  } catch (error) {
    if (error instanceof InvalidAddressError) return null;
    throw error;
  }
}

/** Loopback (127.0.0.0/8, ::1): the only peers whose X-Forwarded-For we believe. */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}
