import { isIP } from 'node:net';
import { InvalidComputeRequest } from './invalid-compute-request.js';
import { childPath, type Fields } from './json-fields.js';
import { unwrapNovaObject } from './nova-object.js';

/**
 * build_and_run_instance's `requested_networks`: a NetworkRequestList 1.x of NetworkRequest 1.x
 * (nova/objects/network_request.py), or None. Each request names a network to create a port on, a port the
 * user passed in, or one of the two special network ids `auto` and `none`; unset fields are None, as
 * NetworkRequest.obj_load_attr makes them.
 */
export interface NetworkRequest {
  network_id: string | null;
  /** A fixed IP asked for on network_id (IPAddressField). */
  address: string | null;
  port_id: string | null;
  pci_request_id: string | null;
  tag: string | null;
  arq_uuid: string | null;
  device_profile: string | null;
}

export const NETWORK_ID_AUTO = 'auto';
export const NETWORK_ID_NONE = 'none';

const STRING_FIELDS = ['network_id', 'port_id', 'pci_request_id', 'tag', 'arq_uuid', 'device_profile'] as const;

/** The primitive -> the requests in order; null when the cast has none (None). */
export function requestedNetworksFromPrimitive(value: unknown, path = 'requested_networks'): NetworkRequest[] | null {
  if (value === null || value === undefined) return null;
  const list = unwrapNovaObject(value, path, ['NetworkRequestList'], 1);
  const objectsPath = list.data.at('objects');
  return list.data.list('objects').map((item, index) => networkRequest(unwrapNovaObject(item, childPath(objectsPath, index), ['NetworkRequest'], 1).data));
}

function networkRequest(fields: Fields): NetworkRequest {
  const strings = Object.fromEntries(STRING_FIELDS.map((key) => [key, fields.nullableString(key)])) as Record<(typeof STRING_FIELDS)[number], string | null>;
  const address = fields.nullableString('address');
  // IPAddressField coerces with netaddr.IPAddress: anything else never reaches a compute from Nova.
  if (address !== null && isIP(address) === 0) throw new InvalidComputeRequest(fields.at('address'), address, 'is not an IP address');
  return { ...strings, address };
}

/** NetworkRequestList.auto_allocate: one request, for network `auto`. */
export function isAutoAllocate(requests: readonly NetworkRequest[] | null): boolean {
  return requests !== null && requests.length === 1 && requests[0]!.network_id === NETWORK_ID_AUTO;
}

/** NetworkRequestList.no_allocate: one request, for network `none`. */
export function isNoAllocate(requests: readonly NetworkRequest[] | null): boolean {
  return requests !== null && requests.length === 1 && requests[0]!.network_id === NETWORK_ID_NONE;
}

/**
 * NetworkRequestList.is_single_unspecified: one request whose to_tuple() is all None (the API's "any
 * network"); the tag is not in the tuple.
 */
export function isSingleUnspecified(requests: readonly NetworkRequest[] | null): boolean {
  if (requests === null || requests.length !== 1) return false;
  const { tag: _tag, ...tuple } = requests[0]!;
  return Object.values(tuple).every((value) => value === null);
}
