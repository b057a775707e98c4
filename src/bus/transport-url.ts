import { maskSecret } from '../config/render.js';
import { TransportUrlError } from './transport-url-error.js';

/** One broker of `transport_url`, with the credentials written beside it. */
export interface BrokerAddress {
  hostname: string;
  port: number;
  username: string;
  password: string;
  /** RabbitMQ's virtual host, "/" when the URL names none. */
  vhost: string;
}

const SCHEMES = ['rabbit', 'kombu'];
const DEFAULT_PORT = 5672;

/**
 * `rabbit://USER:PASS@HOST:PORT[,USER2:PASS2@HOST2:PORT2]/VHOST` as oslo.messaging reads it
 * (TransportURL.parse, then impl_rabbit's _transform_transport_url): the hosts of a cluster in the order
 * written, each with its own credentials, the port defaulting to 5672 (with TLS too), user and password
 * percent-decoded, IPv6 literals in brackets. "rabbit://" with no host at all means guest:guest@localhost.
 * Query parameters select oslo driver features this daemon does not have, and are ignored.
 */
export function parseTransportUrl(url: string): BrokerAddress[] {
  const masked = maskSecret(url);
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url);
  if (!match) throw new TransportUrlError(masked, 'is not a URL of the form rabbit://USER:PASS@HOST:PORT/VHOST');
  const [, scheme, netloc, path] = match as unknown as [string, string, string, string | undefined];
  if (!SCHEMES.includes(scheme.toLowerCase())) {
    throw new TransportUrlError(masked, `scheme "${scheme}" is not RabbitMQ's (${SCHEMES.join(' or ')})`);
  }
  const vhost = decode(path === undefined || path === '/' ? '' : path.slice(1), masked, 'virtual host') || '/';
  const hosts = netloc.split(',').filter((host) => host !== '');
  if (hosts.length === 0) return [{ hostname: 'localhost', port: DEFAULT_PORT, username: 'guest', password: 'guest', vhost }];
  return hosts.map((host) => ({ ...parseHost(host, masked), vhost }));
}

function parseHost(text: string, masked: string): Omit<BrokerAddress, 'vhost'> {
  const at = text.lastIndexOf('@');
  const credentials = at >= 0 ? text.slice(0, at) : null;
  const location = at >= 0 ? text.slice(at + 1) : text;
  const colon = credentials?.indexOf(':') ?? -1;
  const username = credentials === null ? '' : decode(colon >= 0 ? credentials.slice(0, colon) : credentials, masked, 'user name');
  const password = credentials === null || colon < 0 ? '' : decode(credentials.slice(colon + 1), masked, 'password');

  let hostname: string;
  let portText: string | null = null;
  if (location.startsWith('[')) {
    const end = location.indexOf(']');
    if (end < 0) throw new TransportUrlError(masked, `host "${location}" opens an IPv6 "[" it does not close`);
    hostname = location.slice(1, end);
    const rest = location.slice(end + 1);
    if (rest.startsWith(':')) portText = rest.slice(1);
    else if (rest !== '') throw new TransportUrlError(masked, `host "${location}" has "${rest}" after its IPv6 address`);
  } else {
    const portAt = location.indexOf(':');
    hostname = portAt >= 0 ? location.slice(0, portAt) : location;
    if (portAt >= 0) portText = location.slice(portAt + 1);
  }
  if (hostname === '') throw new TransportUrlError(masked, `a host entry (${JSON.stringify(location)}) names no host`);
  return { hostname, port: parsePort(portText, masked, hostname), username, password };
}

function parsePort(text: string | null, masked: string, hostname: string): number {
  if (text === null || text === '') return DEFAULT_PORT;
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new TransportUrlError(masked, `port "${text}" of host ${hostname} is not a number from 1 to 65535`);
  return port;
}

function decode(text: string, masked: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TransportUrlError(masked, `${what} has a malformed %-escape`);
  }
}
