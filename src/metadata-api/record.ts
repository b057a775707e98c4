/**
 * What the metadata service keeps of one spawned instance: who may ask (the project, the fixed IPs) and
 * what it serves of the InstanceMetadata the drive was written from, plus the password the guest posts
 * later. Written as JSON with every byte string in base64 and the EC2 trees as Python JSON text (so
 * Python's ints, floats and key order survive). The admin password and the injected files are not kept:
 * the service never serves them.
 */
import { META_DATA_JSON, type Ec2Documents, type InstanceMetadata, type ServiceMetadata } from '../metadata/instance-metadata.js';
import { dumpAsBytes, dumps, loads, PythonJsonError, type JsonValue } from '../metadata/python-json.js';
import type { Ec2MetaData } from '../metadata/ec2-meta-data.js';
import {
  EC2_VERSION_DIRECTORIES,
  OPENSTACK_VERSION_DIRECTORIES,
  type Ec2VersionDirectory,
  type OpenstackVersionDirectory,
} from '../metadata/versions.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { canonicalAddress } from './address.js';

export interface MetadataRecord {
  uuid: string;
  /** The instance's project: X-Tenant-ID must name it. */
  project_id: string;
  /** Every fixed IP of the instance's VIFs (canonical spelling): a request from one of them is this instance's. */
  fixed_ips: readonly string[];
  metadata: ServiceMetadata;
  /** What the guest posted to openstack/<version>/password; null (or '', as Nova counts it) until then. */
  password: string | null;
}

/** The layout of the file; a file of another format is not ours to read. */
export const RECORD_FORMAT = 'nova-spawnd.metadata.v2';
/** The layout before the service stopped serving what only the drive holds (see servedOnly). */
const RECORD_FORMAT_V1 = 'nova-spawnd.metadata.v1';

export class MetadataRecordError extends Error {
  override readonly name = 'MetadataRecordError';
  constructor(readonly field: string, readonly value: unknown, reason: string) {
    const shown = JSON.stringify(value);
    super(`metadata record field ${field} = ${shown === undefined ? 'missing' : shown.length > 80 ? `${shown.slice(0, 80)}...` : shown}: ${reason}`);
  }
}

/** The record the spawn pipeline saves for an instance it has built the metadata of. */
export function metadataRecord(request: SpawnRequest, metadata: InstanceMetadata): MetadataRecord {
  const fixedIps = request.instance.network_info.flatMap((vif) =>
    vif.network.subnets.flatMap((subnet) => subnet.ips.filter((ip) => ip.type === 'fixed').map((ip) => ip.address)),
  );
  return {
    uuid: metadata.uuid,
    project_id: request.instance.project_id,
    fixed_ips: [...new Set(fixedIps.map((address) => canonicalAddress(address) ?? address))],
    // Named one by one: a spread would keep the drive's admin password and injected files in memory.
    metadata: { uuid: metadata.uuid, ec2: metadata.ec2, openstack: metadata.openstack, content: metadata.content },
    password: null,
  };
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');

export function encodeRecord(record: MetadataRecord): string {
  const { metadata } = record;
  return JSON.stringify({
    format: RECORD_FORMAT,
    uuid: record.uuid,
    project_id: record.project_id,
    fixed_ips: record.fixed_ips,
    password: record.password,
    ec2: [...metadata.ec2].map(([directory, documents]) => [
      directory,
      { meta_data: dumps(documents.meta_data), user_data: documents.user_data === null ? null : base64(documents.user_data) },
    ]),
    openstack: [...metadata.openstack].map(([directory, files]) => [directory, [...files].map(([name, data]) => [name, base64(data)])]),
    content: [...metadata.content].map(([key, data]) => [key, base64(data)]),
  });
}

/** Typed access to the parsed file, failing with the field's path. */
class Reader {
  constructor(private readonly value: unknown, readonly field: string) {}

  fail(reason: string): never {
    throw new MetadataRecordError(this.field, this.value, reason);
  }

  get(key: string): Reader {
    if (this.value === null || typeof this.value !== 'object' || Array.isArray(this.value)) this.fail('not an object');
    return new Reader((this.value as Record<string, unknown>)[key], `${this.field}.${key}`);
  }

  string(): string {
    return typeof this.value === 'string' ? this.value : this.fail('not a string');
  }

  nullableString(): string | null {
    return this.value === null ? null : this.string();
  }

  array(): Reader[] {
    if (!Array.isArray(this.value)) this.fail('not an array');
    return (this.value as unknown[]).map((item, index) => new Reader(item, `${this.field}[${index}]`));
  }

  bytes(): Uint8Array {
    const text = this.string();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) this.fail('not base64');
    return new Uint8Array(Buffer.from(text, 'base64'));
  }

  /** [[name, value], ...] as a Map, names unique. */
  pairs<K extends string, V>(name: (reader: Reader) => K, value: (reader: Reader) => V): Map<K, V> {
    const map = new Map<K, V>();
    for (const pair of this.array()) {
      const [first, second, ...rest] = pair.array();
      if (first === undefined || second === undefined || rest.length > 0) pair.fail('not a [name, value] pair');
      const key = name(first);
      if (map.has(key)) first.fail('repeated');
      map.set(key, value(second));
    }
    return map;
  }

  oneOf<T extends string>(values: readonly T[]): T {
    const text = this.string();
    return (values as readonly string[]).includes(text) ? (text as T) : this.fail(`not one of ${values.join(', ')}`);
  }

  /** A Python JSON text holding an object, its members in order. */
  pythonJsonObject(text: string = this.string()): Map<string, JsonValue> {
    let parsed: JsonValue;
    try {
      parsed = loads(text);
    } catch (error) {
      if (error instanceof PythonJsonError) this.fail(`not JSON: ${error.message}`);
      throw error;
    }
    return parsed instanceof Map ? (parsed as Map<string, JsonValue>) : this.fail('not a JSON object');
  }

  ec2MetaData(): Ec2MetaData {
    return Object.fromEntries(this.pythonJsonObject());
  }
}

function requireAll<K>(map: ReadonlyMap<K, unknown>, keys: readonly K[], reader: Reader): void {
  const missing = keys.filter((key) => !map.has(key));
  if (missing.length > 0) reader.fail(`lacks ${missing.join(', ')}`);
}

type Served = Pick<ServiceMetadata, 'openstack' | 'content'>;

const DRIVE_ONLY_KEYS = ['admin_pass', 'files'];

/**
 * A v1 record holds the drive's meta_data.json ("admin_pass", "files") and the injected files under
 * content/, as the service served them then. They are removed as the record is read, so an instance
 * spawned before the upgrade is never served them either. The file is not rewritten at start: that would
 * not take them off the host (disk.config beside it keeps them for the instance's life), and its next
 * save (a posted password) writes v2. Nova's service has one content file at most, the one network_config
 * names. `reader` (the record's "openstack") is the field named when a meta_data.json is not JSON.
 */
function servedOnly(stored: Served, reader: Reader): Served {
  const decoder = new TextDecoder();
  let networkConfig: JsonValue | undefined;
  const openstack = new Map<OpenstackVersionDirectory, ReadonlyMap<string, Uint8Array>>();
  for (const [directory, documents] of stored.openstack) {
    const metaData = reader.pythonJsonObject(decoder.decode(documents.get(META_DATA_JSON)));
    for (const key of DRIVE_ONLY_KEYS) metaData.delete(key);
    networkConfig = metaData.get('network_config');
    openstack.set(directory, new Map([...documents].map(([name, data]) => [name, name === META_DATA_JSON ? dumpAsBytes(metaData) : data])));
  }
  const contentPath = networkConfig instanceof Map ? networkConfig.get('content_path') : undefined;
  return { openstack, content: new Map([...stored.content].filter(([key]) => contentPath === `/content/${key}`)) };
}

/** Parses a record file's text; throws MetadataRecordError (or SyntaxError) on anything amiss. */
export function decodeRecord(text: string): MetadataRecord {
  const root = new Reader(JSON.parse(text) as unknown, 'record');
  const format = root.get('format').oneOf([RECORD_FORMAT, RECORD_FORMAT_V1]);
  const uuid = root.get('uuid').string();
  const fixedIps = root.get('fixed_ips').array().map((reader) => {
    const address = reader.string();
    return canonicalAddress(address) === address ? address : reader.fail('not a canonical IP address');
  });

  const ec2Reader = root.get('ec2');
  const ec2 = ec2Reader.pairs(
    (reader) => reader.oneOf<Ec2VersionDirectory>(EC2_VERSION_DIRECTORIES),
    (reader): Ec2Documents => {
      const userData = reader.get('user_data');
      return { meta_data: reader.get('meta_data').ec2MetaData(), user_data: userData.nullableString() === null ? null : userData.bytes() };
    },
  );
  requireAll(ec2, EC2_VERSION_DIRECTORIES, ec2Reader);
  const openstackReader = root.get('openstack');
  const openstack = openstackReader.pairs(
    (reader) => reader.oneOf<OpenstackVersionDirectory>(OPENSTACK_VERSION_DIRECTORIES),
    (reader) => reader.pairs((name) => name.string(), (data) => data.bytes()) as ReadonlyMap<string, Uint8Array>,
  );
  requireAll(openstack, OPENSTACK_VERSION_DIRECTORIES, openstackReader);
  const stored: Served = { openstack, content: root.get('content').pairs((key) => key.string(), (data) => data.bytes()) };

  return {
    uuid,
    project_id: root.get('project_id').string(),
    fixed_ips: fixedIps,
    password: root.get('password').nullableString(),
    metadata: { uuid, ec2, ...(format === RECORD_FORMAT_V1 ? servedOnly(stored, openstackReader) : stored) },
  };
}
