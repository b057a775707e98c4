/**
 * The legacy notifications' image_ref_url, as info_from_instance gets it: glance.API().generate_image_url,
 * "<api server>/images/<image_ref>" with the first of [glance] api_servers (Nova shuffles them), else the
 * image endpoint (endpoint_override, else the request context's service catalog) less its version suffix.
 * Without an endpoint Nova falls back to the bare image ref when the context has no token (a periodic
 * task's) and fails the notification otherwise; a notification is worth more than that, so the bare ref here.
 */
import { selectEndpoint, type ServiceCatalog } from '../clients/catalog.js';
import type { ImageEndpoint } from './bus-options.js';

export function imageRefUrl(image: ImageEndpoint, imageRef: string | null, context: Record<string, unknown>): string | null {
  const server = image.apiServers[0] ?? imageEndpoint(image, context);
  return server === null ? imageRef : `${server}/images/${String(imageRef)}`;
}

/** get_api_servers without api_servers: the adapter's endpoint, massaged as Nova does for glanceclient bug 1707995. */
function imageEndpoint(image: ImageEndpoint, context: Record<string, unknown>): string | null {
  const catalog = Array.isArray(context['service_catalog']) ? (context['service_catalog'] as ServiceCatalog) : [];
  const endpoint = image.endpointOverride ?? selectEndpoint(catalog, image.filter);
  return endpoint === null ? null : endpoint.replace(/\/v\d+(\.\d+)?\/?$/, '/');
}
