/**
 * Our server against Nova's own MetadataRequestHandler (python3-nova, run through webob) on the same
 * instance and the same requests: status, Content-Type and body must be identical, error pages included.
 * Where we differ on purpose (README.md) the request is left out here and tested on its own.
 */
import { ec2IdsFromUuids } from '../../src/metadata/ec2-ids.js';
import { OPENSTACK_VERSION_DIRECTORIES } from '../../src/metadata/versions.js';
import type { MetadataApiConfig } from '../../src/metadata-api/identify.js';
import { bareRequest, FULL_BLOCK_DEVICES } from '../metadata/fixtures.js';
import type { NovaDriveInput } from '../metadata/nova-reference.js';
import {
  apiConfig,
  ec2Paths,
  injectedNetworkRequest,
  memoryRegistry,
  openstackPaths,
  proxyHeaders,
  rawRequest,
  SECRET,
  served,
  VENDOR_JSON,
  withServer,
  type RawResponse,
  type Served,
} from './fixtures.js';
import { novaHandler, type NovaHandlerConfig, type NovaRequest } from './nova-handler.js';

interface Probe {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

function novaInput(instance: Served): NovaDriveInput {
  return {
    request: instance.request,
    dhcp_domain: instance.options.dhcp_domain,
    config_drive_skip_versions: instance.options.config_drive_skip_versions,
    vendordata_providers: instance.options.vendordata_providers,
    vendordata_json: VENDOR_JSON,
    blockDevices: FULL_BLOCK_DEVICES,
    ec2Ids: ec2IdsFromUuids(instance.request.instance),
    randomSeeds: [],
  };
}

function novaConfig(config: MetadataApiConfig): NovaHandlerConfig {
  return { ...config.neutron, use_forwarded_for: config.api.use_forwarded_for };
}

/** Sends every probe to both servers and expects the same answers. */
async function compareWithNova(instance: Served, config: MetadataApiConfig, probes: readonly Probe[], password: string | null = null): Promise<void> {
  const registry = memoryRegistry({ ...instance.record, password });
  // One after the other, as Nova's side serves them: a posted password shows in the requests after it.
  const ours = await withServer({ config, registry }, async (server) => {
    const responses: RawResponse[] = [];
    for (const probe of probes) responses.push(await rawRequest(server.port, probe));
    return responses;
  });
  const requests: NovaRequest[] = probes.map((probe, index) => {
    const seed = /"random_seed": "([^"]+)"/.exec(ours[index]!.body.toString('latin1'))?.[1];
    return {
      method: probe.method ?? 'GET',
      path: probe.path,
      headers: probe.headers ?? {},
      remote_addr: '127.0.0.1',
      ...(probe.body ? { body: probe.body } : {}),
      ...(seed ? { random_seed: Buffer.from(seed, 'base64') } : {}),
    };
  });
  const nova = await novaHandler(novaInput(instance), novaConfig(config), password, requests);
  const view = (status: number, contentType: string | null | undefined, body: Buffer) => ({ status, contentType: contentType ?? null, body: body.toString('latin1') });
  const label = (probe: Probe) => `${probe.method ?? 'GET'} ${probe.path} ${JSON.stringify(probe.headers ?? {})}`;
  expect(probes.map((probe, index) => [label(probe), view(ours[index]!.status, ours[index]!.headers['content-type'], ours[index]!.body)])).toEqual(
    probes.map((probe, index) => [label(probe), view(nova[index]!.status, nova[index]!.contentType, nova[index]!.body)]),
  );
}

const ODD_PATHS = [
  '/',
  '/foo/../',
  '/openstack',
  '/openstack/',
  '/ec2',
  '/ec2/latest/meta-data/hostname',
  '//',
  '//openstack',
  '/openstack/content',
  '/openstack/content/0000',
  '/openstack/content/0001',
  '/openstack/content/0002',
  '/openstack/content/0000/x',
  '/openstack/2099-01-01/meta_data.json',
  '/openstack/latest/meta_data.json/extra',
  '/openstack/../../etc/passwd',
  '/openstack/%2e%2e/%2e%2e/etc/passwd',
  '/openstack/latest/..%2f..%2fetc%2fpasswd',
  '/openstack/latest/../latest/meta_data.json',
  '/openstack/./latest//meta_data.json',
  '/openstack/latest/meta_data.json?x=1&y=../../etc',
  '/openstack/lat%65st/user_data',
  '/9999-99-99',
  '/2009-04-04/user-data-invalid',
  '/latest/meta-data/public-keys/0/_name',
  '/latest/meta-data/nothing',
];

describe("Nova's MetadataRequestHandler and ours answer alike", () => {
  const instance = served();
  const uuid = instance.request.instance.uuid;
  const tenant = instance.request.instance.project_id;
  const headers = proxyHeaders(uuid, tenant);

  test('behind the Neutron proxy: every EC2 and OpenStack path, listings, traversal and odd paths', async () => {
    const paths = [...(await ec2Paths(instance, headers)), ...openstackPaths(), ...ODD_PATHS];
    expect(paths).toContain('/2009-04-04/meta-data/public-keys/0/openssh-key');
    expect(paths).toContain('/latest/meta-data/block-device-mapping/ephemeral0');
    expect(paths).toContain('/1.0/user-data');
    await compareWithNova(instance, apiConfig(), paths.map((path) => ({ path, headers })));
  });

  test('error pages in each format the Accept header asks for', async () => {
    const accepts = ['*/*', 'text/html', 'application/json', 'text/plain', 'application/json, text/html;q=0.9', 'text/*;q=0.5, application/json;q=0.4', 'text/html;q=0', 'not a media type', 'text/html;level=1'];
    const probes = accepts.flatMap((accept): Probe[] => [
      { path: '/openstack/latest/nothing', headers: { ...headers, Accept: accept } },
      { path: '/openstack/latest/meta_data.json', headers: { ...headers, 'X-Instance-ID-Signature': 'f00d', Accept: accept } },
      { path: '/openstack/latest/meta_data.json', headers: { 'X-Instance-ID': uuid, 'X-Instance-ID-Signature': headers['X-Instance-ID-Signature']!, Accept: accept } },
    ]);
    await compareWithNova(instance, apiConfig(), probes);
  });

  test('instance identification: signatures, tenants, missing headers', async () => {
    const other = '0b0e2f3c-1111-4222-8333-444455556666';
    const without = (name: string) => Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));
    const path = '/openstack/latest/meta_data.json';
    await compareWithNova(instance, apiConfig(), [
      { path, headers },
      { path, headers: proxyHeaders(uuid, tenant, 'wrong secret') },
      { path, headers: { ...headers, 'X-Instance-ID-Signature': '' } },
      { path, headers: { ...headers, 'X-Instance-ID-Signature': proxyHeaders(other, tenant)['X-Instance-ID-Signature']! } },
      { path, headers: { ...headers, 'X-Instance-ID-Signature': headers['X-Instance-ID-Signature']!.toUpperCase() } },
      { path, headers: { ...headers, 'X-Tenant-ID': 'someone-else' } },
      { path, headers: proxyHeaders(other, tenant) },
      { path, headers: without('X-Instance-ID') },
      // Not compared: without X-Instance-ID-Signature Nova answers 400, we answer 403 (identify.test.ts).
      { path, headers: without('X-Tenant-ID') },
      { path, headers: without('X-Forwarded-For') },
      { path: '/', headers: {} },
      { path: '/latest/meta-data/local-ipv4', headers: without('X-Forwarded-For') },
    ]);
  });

  test('without the proxy, by the requester address (X-Forwarded-For from a proxy on this host)', async () => {
    const config = apiConfig({ proxy: false, use_forwarded_for: true });
    await compareWithNova(instance, config, [
      { path: '/openstack/latest/meta_data.json', headers: { 'X-Forwarded-For': '10.0.0.5' } },
      { path: '/latest/meta-data/local-ipv4', headers: { 'X-Forwarded-For': '172.16.3.10' } },
      { path: '/openstack/latest/user_data', headers: { 'X-Forwarded-For': '2001:db8:1:0:f816:3eff:fe12:3456' } },
      { path: '/openstack/latest/meta_data.json', headers: { 'X-Forwarded-For': '10.0.0.99' } },
      { path: '/openstack/latest/meta_data.json', headers: { 'X-Forwarded-For': '10.0.0.99', Accept: 'application/json' } },
      { path: '/', headers: {} },
    ]);
  });

  test('an instance without fixed IPv4: local-ipv4 is the requester, as on no drive', async () => {
    const bare = served(bareRequest());
    const bareHeaders = proxyHeaders(bare.request.instance.uuid, bare.request.instance.project_id, SECRET, '192.0.2.44');
    const probes = ['/latest/meta-data/local-ipv4', '/latest/meta-data/', '/latest', '/openstack/latest', '/openstack/latest/user_data', '/latest/meta-data/public-keys', '/openstack/latest/network_data.json'];
    await compareWithNova(bare, apiConfig(), probes.map((path) => ({ path, headers: bareHeaders })));
  });

  test('an admin password and injected files: neither served, by proxy or by address; the interfaces file is', async () => {
    const injected = served(injectedNetworkRequest());
    expect([injected.request.admin_password, injected.request.injected_files.length]).toEqual(['s3cr3t-P4ss', 2]);
    const probes = [
      ...OPENSTACK_VERSION_DIRECTORIES.flatMap((version) => [`/openstack/${version}`, `/openstack/${version}/meta_data.json`]),
      ...['0000', '0001', '0002', '0003'].map((key) => `/openstack/content/${key}`),
    ];
    const { uuid: injectedUuid, project_id: injectedTenant } = injected.request.instance;
    await compareWithNova(injected, apiConfig(), probes.map((path) => ({ path, headers: proxyHeaders(injectedUuid, injectedTenant, SECRET, '10.1.2.3') })));
    await compareWithNova(instance, apiConfig(), probes.map((path) => ({ path, headers })));
    const byAddress = apiConfig({ proxy: false, use_forwarded_for: true });
    await compareWithNova(injected, byAddress, probes.map((path) => ({ path, headers: { 'X-Forwarded-For': '10.1.2.3' } })));
    await compareWithNova(instance, byAddress, probes.map((path) => ({ path, headers: { 'X-Forwarded-For': '10.0.0.5' } })));
  });

  test('password: GET before and after, POST once, too large, then a conflict', async () => {
    const path = '/openstack/latest/password';
    await compareWithNova(instance, apiConfig(), [
      { path, headers },
      { method: 'POST', path: '/openstack/2013-04-04/password', headers, body: Buffer.alloc(1021, 'a') },
      { method: 'POST', path, headers, body: Buffer.from('c2VjcmV0') },
      { method: 'POST', path: '/openstack/2012-08-10/password', headers, body: Buffer.from('x') },
    ]);
    const stored = 'q'.repeat(1020);
    await compareWithNova(instance, apiConfig(), [
      { path, headers },
      { method: 'POST', path, headers, body: Buffer.from('another') },
      { method: 'POST', path, headers, body: Buffer.alloc(2000, 'a') },
    ], stored);
  });

  test('no vendor data provider, no dhcp_domain: vendor_data.json listed but 404, bare hostnames', async () => {
    const plain = served(undefined, { vendordata_providers: [], dhcp_domain: '' });
    const probes = ['/openstack/latest', '/openstack/latest/vendor_data.json', '/openstack/latest/vendor_data2.json', '/openstack/latest/meta_data.json', '/latest/meta-data/hostname'];
    await compareWithNova(plain, apiConfig(), probes.map((path) => ({ path, headers })));
  });

  test('the full instance and a bare one differ where Nova says they do', async () => {
    const bare = served(bareRequest());
    const bareHeaders = proxyHeaders(bare.request.instance.uuid, bare.request.instance.project_id);
    await compareWithNova(bare, apiConfig(), [...(await ec2Paths(bare, bareHeaders)), ...openstackPaths()].map((path) => ({ path, headers: bareHeaders })));
  });
});
