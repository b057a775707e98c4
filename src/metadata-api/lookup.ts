/**
 * base.InstanceMetadata.lookup() over the documents built at spawn: which bytes a path names, and with
 * which content type. Pure; the documents are the very bytes the config drive holds, but for what only the
 * drive has: meta_data.json without admin_pass and files, content/ without the injected files.
 */
import {
  META_DATA_JSON,
  NETWORK_DATA_JSON,
  USER_DATA,
  VENDOR_DATA2_JSON,
  VENDOR_DATA_JSON,
  type ServiceMetadata,
} from '../metadata/instance-metadata.js';
import {
  EC2_VERSION_DIRECTORIES,
  GRIZZLY,
  HAVANA,
  LATEST,
  LIBERTY,
  NEWTON_TWO,
  OPENSTACK_VERSION_DIRECTORIES,
  openstackVersionAtLeast,
  resolveOpenstackVersion,
  type OpenstackVersion,
  type OpenstackVersionDirectory,
} from '../metadata/versions.js';
import { ec2MdPrint, findPathInTree, type Ec2TreeValue } from './ec2-tree.js';

/** The content types webob gives Nova's responses (it adds the charset to text/* only). */
export const TEXT_PLAIN = 'text/plain; charset=UTF-8';
export const APPLICATION_JSON = 'application/json';

const PASSWORD = 'password';

export type Lookup =
  | { kind: 'document'; contentType: typeof TEXT_PLAIN | typeof APPLICATION_JSON; body: Uint8Array }
  /** openstack/<version>/password: answered by the password handler, which needs the method and body. */
  | { kind: 'password' }
  | { kind: 'not-found' };

const NOT_FOUND: Lookup = { kind: 'not-found' };
const encoder = new TextEncoder();

function text(body: Uint8Array | string): Lookup {
  return { kind: 'document', contentType: TEXT_PLAIN, body: typeof body === 'string' ? encoder.encode(body) : body };
}

function optionalText(body: Uint8Array | undefined): Lookup {
  return body === undefined ? NOT_FOUND : text(body);
}

function json(body: Uint8Array | undefined): Lookup {
  return body === undefined ? NOT_FOUND : { kind: 'document', contentType: APPLICATION_JSON, body };
}

/** The EC2 versions: what "/" lists to anyone, as Nova's handler answers it before it identifies the requester. */
export const EC2_VERSIONS_BODY = encoder.encode(EC2_VERSION_DIRECTORIES.join('\n'));
const EC2_VERSION_LISTING = text(EC2_VERSIONS_BODY);
const OPENSTACK_VERSION_LISTING = text(OPENSTACK_VERSION_DIRECTORIES.join('\n'));

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

/** _handle_version: what a version directory lists (vendor_data.json even when no provider serves it). */
function versionListing(metadata: ServiceMetadata, version: OpenstackVersion): Lookup {
  const names = [META_DATA_JSON];
  if (metadata.openstack.get(LATEST)!.has(USER_DATA)) names.push(USER_DATA);
  if (openstackVersionAtLeast(GRIZZLY, version)) names.push(PASSWORD);
  if (openstackVersionAtLeast(HAVANA, version)) names.push(VENDOR_DATA_JSON);
  if (openstackVersionAtLeast(LIBERTY, version)) names.push(NETWORK_DATA_JSON);
  if (openstackVersionAtLeast(NEWTON_TWO, version)) names.push(VENDOR_DATA2_JSON);
  return text(names.join('\n'));
}

function openstackItem(metadata: ServiceMetadata, tokens: readonly string[]): Lookup {
  const [first, ...rest] = tokens;
  if (first === 'content') return rest.length === 1 ? optionalText(metadata.content.get(rest[0]!)) : NOT_FOUND;
  if (first === undefined || !isOneOf(OPENSTACK_VERSION_DIRECTORIES, first)) return NOT_FOUND;
  const directory: OpenstackVersionDirectory = first;
  const version = resolveOpenstackVersion(directory);
  const documents = metadata.openstack.get(directory)!;
  const latest = metadata.openstack.get(LATEST)!;
  switch (rest.length === 0 ? 'version' : rest.join('/')) {
    case 'version':
      return versionListing(metadata, version);
    case META_DATA_JSON:
      return json(documents.get(META_DATA_JSON));
    // Nova serves these two whatever the version, as the drive's newer directories hold them.
    case USER_DATA:
      return optionalText(latest.get(USER_DATA));
    case NETWORK_DATA_JSON:
      return optionalText(latest.get(NETWORK_DATA_JSON));
    case PASSWORD:
      return openstackVersionAtLeast(GRIZZLY, version) ? { kind: 'password' } : NOT_FOUND;
    case VENDOR_DATA_JSON:
      return json(documents.get(VENDOR_DATA_JSON));
    case VENDOR_DATA2_JSON:
      return json(documents.get(VENDOR_DATA2_JSON));
    default:
      return NOT_FOUND;
  }
}

/**
 * get_ec2_metadata + find_path_in_tree. local-ipv4 is the first fixed IPv4, or else (where the drive has
 * null) the address the request came from, as Nova's service answers.
 */
function ec2Item(metadata: ServiceMetadata, tokens: readonly string[], requester: string | null): Lookup {
  const [directory, ...path] = tokens;
  if (directory === undefined || !isOneOf(EC2_VERSION_DIRECTORIES, directory)) return NOT_FOUND;
  const documents = metadata.ec2.get(directory)!;
  const metaData = documents.meta_data['local-ipv4'] === null ? { ...documents.meta_data, 'local-ipv4': requester } : documents.meta_data;
  const root = new Map<string, Ec2TreeValue>([['meta-data', metaData]]);
  if (documents.user_data !== null) root.set('user-data', documents.user_data);
  const found = findPathInTree(root, path);
  return found === undefined ? NOT_FOUND : text(ec2MdPrint(found));
}

/**
 * lookup(path) for a path already normalised (see requestPath): "/openstack/..." or "/ec2/...", anything
 * else being an EC2 path without its "/ec2" prefix.
 */
export function lookup(metadata: ServiceMetadata, path: string, requester: string | null): Lookup {
  let tokens = path.split('/').slice(1);
  if (tokens[0] !== 'ec2' && tokens[0] !== 'openstack') tokens = tokens[0] === '' ? ['ec2'] : ['ec2', ...tokens];
  const [tree, ...rest] = tokens;
  if (rest.length === 0) return tree === 'openstack' ? OPENSTACK_VERSION_LISTING : EC2_VERSION_LISTING;
  return tree === 'openstack' ? openstackItem(metadata, rest) : ec2Item(metadata, rest, requester);
}
