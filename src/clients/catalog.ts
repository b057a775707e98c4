/** Keystone v3's service catalog (a token's `catalog`) and keystoneauth's endpoint selection from it. */

export interface CatalogEndpoint {
  interface: string;
  region_id?: string | null;
  region?: string | null;
  url: string;
}

export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

export type ServiceCatalog = CatalogService[];

export interface EndpointFilter {
  service_type: string;
  service_name: string | null;
  /** In order of preference: the first interface with an endpoint wins. */
  valid_interfaces: readonly string[];
  region_name: string | null;
}

export function describeFilter(filter: EndpointFilter): string {
  const parts = [`service_type ${filter.service_type}`];
  if (filter.service_name !== null) parts.push(`service_name ${filter.service_name}`);
  parts.push(`interfaces ${filter.valid_interfaces.join(',')}`);
  if (filter.region_name !== null) parts.push(`region ${filter.region_name}`);
  return parts.join(', ');
}

/** As keystoneauth's ServiceCatalog.url_for: by type and name, then interface in preference order, then region. */
export function selectEndpoint(catalog: ServiceCatalog, filter: EndpointFilter): string | null {
  const services = catalog.filter(
    (service) => service.type === filter.service_type && (filter.service_name === null || service.name === filter.service_name),
  );
  const endpoints = services.flatMap((service) => service.endpoints);
  for (const wanted of filter.valid_interfaces) {
    const found = endpoints.find(
      (endpoint) =>
        endpoint.interface === wanted && (filter.region_name === null || (endpoint.region_id ?? endpoint.region) === filter.region_name),
    );
    if (found) return found.url;
  }
  return null;
}
