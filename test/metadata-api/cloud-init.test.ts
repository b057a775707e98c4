/**
 * The two sources a guest can read, side by side: cloud-init's OpenStack HTTP reader (MetadataReader) on
 * our server behind a Neutron-like proxy, and its ConfigDriveReader on the drive tree of the same
 * InstanceMetadata. Then every file of the drive against the URL that serves it. They differ where
 * Nova's do: the admin password and the injected files are on the drive only.
 */
import { fileURLToPath } from 'node:url';
import { toDriveTree } from '../../src/metadata/instance-metadata.js';
import { loads, type JsonValue } from '../../src/metadata/python-json.js';
import { base64Of, readWithCloudInit, type CloudInitView } from '../metadata/cloud-init-reference.js';
import { bareRequest, KEY, MAC_1, MAC_2, USER_DATA } from '../metadata/fixtures.js';
import { runPython } from '../metadata/python.js';
import { memoryRegistry, rawRequest, served, withServer, type Served } from './fixtures.js';
import { startNeutronProxy } from './neutron-proxy.js';

const HELPER = fileURLToPath(new URL('./cloudinit_read_metadata_service.py', import.meta.url));
const KNOWN_MACS = { [MAC_1]: 'ens3', [MAC_2]: 'ens4' };

/** The address the proxy reports for the guest: its first fixed IP, or a documentation address without one. */
function requesterOf(instance: Served): string {
  return instance.record.fixed_ips[0] ?? '192.0.2.44';
}

/** Runs `action` with the instance served behind a proxy that adds its Neutron headers. */
async function behindProxy<T>(instance: Served, action: (proxy: { url: string; port: number }) => Promise<T>): Promise<T> {
  return withServer({ registry: memoryRegistry(instance.record) }, async (server) => {
    const { uuid, project_id } = instance.request.instance;
    const proxy = await startNeutronProxy(server, { uuid, tenant: project_id, fixedIp: requesterOf(instance) });
    try {
      return await action({ url: proxy.url, port: Number(new URL(proxy.url).port) });
    } finally {
      await proxy.close();
    }
  });
}

/** A drive's meta_data.json as the service has it: without what only the drive holds. */
function servedMetaData(driveMetaData: Record<string, unknown>): Record<string, unknown> {
  const served = { ...driveMetaData };
  delete served['admin_pass'];
  delete served['files'];
  return served;
}

async function readMetadataService(url: string): Promise<CloudInitView> {
  return JSON.parse(await runPython([HELPER, url, JSON.stringify(KNOWN_MACS)], null)) as CloudInitView;
}

/**
 * What the EC2 meta-data.json of a drive looks like through the service: every leaf as Python's str(), a
 * list one item per line, public-keys/0 without its "_name", and where the drive has no local-ipv4 the
 * address the request came from (Nova's service does the same).
 */
function asServed(value: JsonValue, requester: string, key = ''): unknown {
  if (value instanceof Map) {
    return Object.fromEntries([...value].filter(([name]) => name !== '_name').map(([name, item]) => [name, asServed(item, requester, name)]));
  }
  if (Array.isArray(value)) return value.join('\n');
  if (value === null) return key === 'local-ipv4' ? requester : 'None';
  return String(value);
}

/**
 * The drive's EC2 data as cloud-init's HTTP reader (ec2.MetadataMaterializer) builds it from those
 * leaves: text, one line a string and several a list, public-keys by key name.
 */
function asReadOverHttp(drive: Record<string, unknown>, requester: string): Record<string, unknown> {
  const leaf = (key: string, value: unknown): unknown => {
    if (key === 'public-keys') {
      return Object.fromEntries(Object.values(value as Record<string, { _name: string; 'openssh-key': string }>).map((entry) => [entry._name.split('=')[1], entry['openssh-key']]));
    }
    if (Array.isArray(value)) return value.length === 0 ? '' : value.length === 1 ? value[0] : value;
    if (value !== null && typeof value === 'object') return asReadOverHttp(value as Record<string, unknown>, requester);
    if (value === null) return key === 'local-ipv4' ? requester : 'None';
    return String(value);
  };
  return Object.fromEntries(Object.entries(drive).map(([key, value]) => [key, leaf(key, value)]));
}

/** The EC2 meta-data tree as the service lists it, rebuilt by walking the listings. */
async function walkEc2(port: number, path: string): Promise<Record<string, unknown>> {
  const tree: Record<string, unknown> = {};
  const listing = (await rawRequest(port, { path })).body.toString();
  for (const item of listing.split('\n').filter((line) => line !== '')) {
    if (item.endsWith('/')) tree[item.slice(0, -1)] = await walkEc2(port, `${path}${item}`);
    else if (item.includes('=')) tree[item.split('=')[0]!] = await walkEc2(port, `${path}${item.split('=')[0]}/`);
    else {
      const leaf = await rawRequest(port, { path: `${path}${item}` });
      expect(leaf.status).toBe(200);
      tree[item] = leaf.body.toString();
    }
  }
  return tree;
}

describe('cloud-init reads the same instance from the metadata service as from the config drive', () => {
  test.each([
    ['full instance', served()],
    ['bare instance', served(bareRequest())],
  ])('%s: MetadataReader.read_v2() over HTTP equals ConfigDriveReader.read_v2() on the drive, less admin_pass and files', async (_name, instance) => {
    const fromDrive = await readWithCloudInit(toDriveTree(instance.metadata), KNOWN_MACS);
    const fromService = await behindProxy(instance, (proxy) => readMetadataService(proxy.url));

    const { ['ec2-metadata']: driveEc2, ...driveRest } = fromDrive.read_v2;
    const { ['ec2-metadata']: serviceEc2, ...serviceRest } = fromService.read_v2;
    const driveMetaData = driveRest['metadata'] as Record<string, unknown>;
    expect([driveMetaData['admin_pass'], Object.keys(driveRest['files'] as object)]).toEqual([
      instance.request.admin_password ?? undefined,
      instance.request.injected_files.map((file) => file.path),
    ]);
    expect(serviceRest).toEqual({ ...driveRest, metadata: servedMetaData(driveMetaData), files: {} });
    expect(fromService.version).toBe(fromDrive.version);
    expect(fromService.public_ssh_keys).toEqual(fromDrive.public_ssh_keys);
    expect(fromService.network_config).toEqual(fromDrive.network_config);
    expect(serviceEc2).toEqual(asReadOverHttp(driveEc2 as Record<string, unknown>, requesterOf(instance)));
  });

  test('what cloud-init gets from the service: uuid, hostname, keys, user data, vendor data, network config; no admin password or files', async () => {
    const instance = served();
    const view = await behindProxy(instance, (proxy) => readMetadataService(proxy.url));
    const metadata = view.read_v2['metadata'] as Record<string, unknown>;
    expect(metadata['uuid']).toBe(instance.request.instance.uuid);
    expect(metadata['hostname']).toBe('web-01.novalocal');
    expect(view.public_ssh_keys).toEqual([KEY]);
    expect(base64Of(view.read_v2['userdata']).toString()).toBe(USER_DATA);
    expect(view.read_v2['vendordata']).toEqual({ 'cloud-init': '#cloud-config\npackages: [htop]\n', site: 'lab-3' });
    expect([metadata['admin_pass'], metadata['files'], view.read_v2['files']]).toEqual([undefined, undefined, {}]);
    expect(view.network_config?.config.map((entry) => entry['name'] ?? entry['type'])).toEqual(expect.arrayContaining(['ens3', 'ens4']));
  });

  test.each([
    ['full instance', served()],
    ['bare instance', served(bareRequest())],
  ])('%s: every file of the drive, fetched from the service, has the same bytes, but what only the drive holds', async (_name, instance) => {
    const tree = toDriveTree(instance.metadata);
    const json = (body: Uint8Array) => JSON.parse(Buffer.from(body).toString()) as Record<string, unknown>;
    const files = (json(tree.get('openstack/latest/meta_data.json')!)['files'] ?? []) as { content_path: string }[];
    const injectedContent = new Set(files.map((file) => `openstack${file.content_path}`));
    expect(injectedContent.size).toBe(instance.request.injected_files.length);
    await behindProxy(instance, async ({ port }) => {
      for (const [path, bytes] of tree) {
        const ec2 = /^ec2\/([^/]+)\/(meta-data\.json|user-data)$/.exec(path);
        if (ec2?.[2] === 'meta-data.json') {
          expect([path, await walkEc2(port, `/${ec2[1]}/meta-data/`)]).toEqual([path, asServed(loads(Buffer.from(bytes).toString()), requesterOf(instance))]);
          continue;
        }
        const response = await rawRequest(port, { path: ec2 ? `/${ec2[1]}/user-data` : `/${path}` });
        if (injectedContent.has(path)) {
          expect([path, response.status]).toEqual([path, 404]);
        } else if (path.endsWith('/meta_data.json')) {
          expect([path, response.status, json(response.body)]).toEqual([path, 200, servedMetaData(json(bytes))]);
        } else {
          expect([path, response.status, response.body.toString('latin1')]).toEqual([path, 200, Buffer.from(bytes).toString('latin1')]);
        }
      }
    });
    expect(tree.size).toBeGreaterThan(20);
  });
});
