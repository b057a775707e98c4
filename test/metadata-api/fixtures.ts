/** What the metadata API tests share: served instances, configs, a recording logger and a raw HTTP client. */
import http from 'node:http';
import { loadConfig } from '../../src/config/load.js';
import type { Level, LogContext, Logger } from '../../src/log.js';
import { buildInstanceMetadata, toDriveTree, type InstanceMetadata } from '../../src/metadata/instance-metadata.js';
import type { MetadataOptions } from '../../src/metadata/options.js';
import type { JsonValue } from '../../src/metadata/python-json.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { instanceIdSignature, type MetadataApiConfig } from '../../src/metadata-api/identify.js';
import { encodeRecord, metadataRecord, type MetadataRecord } from '../../src/metadata-api/record.js';
import { MetadataRegistry } from '../../src/metadata-api/registry.js';
import { startMetadataServer, type MetadataServer } from '../../src/metadata-api/server.js';
import { EC2_VERSION_DIRECTORIES, OPENSTACK_VERSION_DIRECTORIES } from '../../src/metadata/versions.js';
import { countingSeeds, fixedIp, FULL_BLOCK_DEVICES, fullRequest, subnet, testOptions, vif } from '../metadata/fixtures.js';

export const SECRET = 'ZnVsbC1tZXRhZGF0YS1wcm94eS1zZWNyZXQ';
export const VENDOR_DATA = new Map<string, JsonValue>([
  ['cloud-init', '#cloud-config\npackages: [htop]\n'],
  ['site', 'lab-3'],
]);
export const VENDOR_JSON = '{"cloud-init": "#cloud-config\\npackages: [htop]\\n", "site": "lab-3"}';

export interface Served {
  request: SpawnRequest;
  options: MetadataOptions;
  metadata: InstanceMetadata;
  record: MetadataRecord;
  seeds: Uint8Array[];
}

/** An instance as the pipeline would register it: metadata built with counting seeds and the test vendor data. */
export function served(request: SpawnRequest = fullRequest(), overrides: Partial<MetadataOptions> = {}): Served {
  const { randomSeed, seeds } = countingSeeds();
  const options = testOptions({ randomSeed, vendor_data: VENDOR_DATA, ...overrides });
  const metadata = buildInstanceMetadata(request, options, FULL_BLOCK_DEVICES);
  return { request, options, metadata, record: metadataRecord(request, metadata), seeds };
}

/** The full request (admin password, two injected files) on a network that asks for an injected interfaces file. */
export function injectedNetworkRequest(): SpawnRequest {
  const network = vif({
    networkMeta: { injected: true },
    subnets: [subnet({ cidr: '10.1.0.0/16', version: 4, gateway: { address: '10.1.0.1' }, ips: [fixedIp('10.1.2.3')] })],
  });
  return fullRequest({ network_info: [network] });
}

/**
 * What only the config drive may hold of a request, as latin1 text to look for in a served body: the
 * admin password, each injected file's path and contents, and the meta_data.json keys that list them.
 */
export function driveOnly(request: SpawnRequest): string[] {
  const files = request.injected_files.flatMap((file) => [file.path, file.contents.toString('latin1')]);
  return ['"admin_pass"', '"files"', ...(request.admin_password === null ? [] : [request.admin_password]), ...files];
}

/**
 * The record as nova-spawnd.metadata.v1 wrote it, before the service served only what Nova's does: the
 * drive's meta_data.json (admin_pass, files) and the drive's content/, injected files included.
 */
export function v1RecordText(instance: Served): string {
  const drive = toDriveTree(instance.metadata);
  const base64 = (path: string) => Buffer.from(drive.get(path)!).toString('base64');
  const record = JSON.parse(encodeRecord(instance.record)) as Record<string, unknown>;
  const openstack = (record['openstack'] as [string, [string, string][]][]).map(([directory, files]) => [
    directory,
    files.map(([name, data]) => [name, name === 'meta_data.json' ? base64(`openstack/${directory}/${name}`) : data]),
  ]);
  const content = [...drive.keys()].filter((path) => path.startsWith('openstack/content/')).map((path) => [path.split('/')[2], base64(path)]);
  return JSON.stringify({ ...record, format: 'nova-spawnd.metadata.v1', config_drive_skip_versions: instance.metadata.config_drive_skip_versions, openstack, content });
}

export function apiConfig(overrides: { proxy?: boolean; secret?: string; use_forwarded_for?: boolean } = {}): MetadataApiConfig {
  return {
    DEFAULT: { metadata_listen: '127.0.0.1', metadata_listen_port: 0 },
    api: { use_forwarded_for: overrides.use_forwarded_for ?? false },
    neutron: {
      // The section's other options (credentials for Neutron) as defaults: the metadata API reads none of them.
      ...loadConfig([]).config.neutron,
      service_metadata_proxy: overrides.proxy ?? true,
      metadata_proxy_shared_secret: overrides.secret ?? SECRET,
    },
  };
}

export function memoryRegistry(...records: MetadataRecord[]): MetadataRegistry {
  const registry = new MetadataRegistry(async () => undefined);
  for (const record of records) registry.register(record);
  return registry;
}

/** A Logger that keeps its lines, as an operator would read them. */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const make = (name: string): Logger => {
    const emit = (level: Level) => (message: string, context?: LogContext) => {
      lines.push(`${level} ${name} ${message} ${JSON.stringify(context ?? {})}`);
    };
    return { debug: emit('DEBUG'), info: emit('INFO'), warning: emit('WARNING'), error: emit('ERROR'), child: (suffix) => make(`${name}.${suffix}`) };
  };
  return { log: make('test'), lines };
}

/** The headers neutron-metadata-agent adds for an instance. */
export function proxyHeaders(uuid: string, tenant: string, secret = SECRET, forwardedFor = '10.0.0.5'): Record<string, string> {
  return {
    'X-Instance-ID': uuid,
    'X-Tenant-ID': tenant,
    'X-Instance-ID-Signature': instanceIdSignature(secret, uuid),
    'X-Forwarded-For': forwardedFor,
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with the path sent byte for byte (fetch would resolve "../" before sending). */
export function rawRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string | string[]>; body?: Buffer | string; agent?: http.Agent },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {}, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Every path of the EC2 tree, found the way Nova's test_get_metadata walks it: through the listings. */
export async function ec2Paths(instance: Served, headers: Record<string, string>): Promise<string[]> {
  return withServer({ registry: memoryRegistry(instance.record) }, async (server) => {
    const paths: string[] = [];
    const walk = async (path: string): Promise<void> => {
      paths.push(path);
      const listing = (await rawRequest(server.port, { path, headers })).body.toString();
      for (const item of listing.split('\n').filter((line) => line !== '')) {
        // A nested directory lists as "name/", or as its "_name" ("0=KEYNAME" under public-keys/).
        if (item.endsWith('/')) await walk(`${path}/${item.slice(0, -1)}`);
        else if (item.includes('=')) await walk(`${path}/${item.split('=')[0]}`);
        else paths.push(`${path}/${item}`);
      }
    };
    for (const version of EC2_VERSION_DIRECTORIES) await walk(`/${version}`);
    return paths;
  });
}

const OPENSTACK_FILES = ['', '/', '/version', '/meta_data.json', '/user_data', '/password', '/vendor_data.json', '/vendor_data2.json', '/network_data.json', '/nothing'];

export function openstackPaths(): string[] {
  return OPENSTACK_VERSION_DIRECTORIES.flatMap((version) => OPENSTACK_FILES.map((file) => `/openstack/${version}${file}`));
}

export async function withServer<T>(
  options: { config?: MetadataApiConfig; registry: MetadataRegistry; log?: Logger },
  action: (server: MetadataServer) => Promise<T>,
): Promise<T> {
  const server = await startMetadataServer({ config: options.config ?? apiConfig(), registry: options.registry, log: options.log ?? memoryLogger().log });
  try {
    return await action(server);
  } finally {
    await server.close();
  }
}
