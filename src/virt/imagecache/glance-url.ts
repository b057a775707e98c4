/** Where Glance's v2 API serves an image's bytes, from a `[glance] api_servers` entry. */
import { ConfigError } from '../../config/config-error.js';

/**
 * An api_servers entry as Nova accepts it: a fully qualified http(s) URL, "scheme://host:port[/path]".
 * Checked when the cache is built, so a bad entry stops the daemon at start rather than a spawn later.
 */
export function checkApiServer(apiServer: string): void {
  let protocol: string | null = null;
  try {
    protocol = new URL(apiServer).protocol;
  } catch {
    // Reported below with the value.
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ConfigError([{ section: 'glance', option: 'api_servers', value: apiServer, reason: 'not an http:// or https:// URL (scheme://host:port[/path])' }]);
  }
}

/**
 * `GET {endpoint}/v2/images/{id}/file`, the request glanceclient makes for Nova: the endpoint is used as
 * written, less any trailing slash (a version suffix such as /v2 is NOT removed for api_servers).
 */
export function imageFileUrl(apiServer: string, imageId: string): URL {
  return new URL(`${apiServer.replace(/\/+$/, '')}/v2/images/${encodeURIComponent(imageId)}/file`);
}
