/**
 * Who is asking: the signed headers of Neutron's metadata proxy (through the real server), and the
 * requester's address (identify() on its own, with peers a loopback test cannot be).
 */
import crypto from 'node:crypto';
import { jest } from '@jest/globals';
import { identify, instanceIdSignature, type IdentifyRequest } from '../../src/metadata-api/identify.js';
import { fixedIp, fullRequest, STATIC_VIF, vif } from '../metadata/fixtures.js';
import { apiConfig, memoryLogger, memoryRegistry, proxyHeaders, rawRequest, SECRET, served, withServer } from './fixtures.js';

const instance = served();
const uuid = instance.request.instance.uuid;
const tenant = instance.request.instance.project_id;
const PATH = '/openstack/latest/meta_data.json';

describe('behind the Neutron metadata proxy', () => {
  const other = served(fullRequest({ uuid: '0b0e2f3c-1111-4222-8333-444455556666', project_id: 'another-project' }));
  const registry = memoryRegistry(instance.record, other.record);

  async function get(headers: Record<string, string | string[]>, log = memoryLogger()) {
    const response = await withServer({ registry, log: log.log }, (server) => rawRequest(server.port, { path: PATH, headers }));
    return { ...response, text: response.body.toString(), lines: log.lines };
  }

  test('the right signature: 200 and the instance document', async () => {
    const response = await get(proxyHeaders(uuid, tenant));
    expect(response.status).toBe(200);
    expect(response.body).toEqual(Buffer.from(instance.metadata.openstack.get('latest')!.get('meta_data.json')!));
  });

  test('each instance gets its own documents', async () => {
    const response = await get(proxyHeaders(other.record.uuid, 'another-project'));
    expect(JSON.parse(response.text)).toMatchObject({ uuid: other.record.uuid, project_id: 'another-project' });
  });

  test.each([
    ['made with another secret', proxyHeaders(uuid, tenant, 'not-the-secret')],
    ["of another instance's id", { ...proxyHeaders(uuid, tenant), 'X-Instance-ID-Signature': instanceIdSignature(SECRET, other.record.uuid) }],
    ['empty', { ...proxyHeaders(uuid, tenant), 'X-Instance-ID-Signature': '' }],
    ['in upper case', { ...proxyHeaders(uuid, tenant), 'X-Instance-ID-Signature': instanceIdSignature(SECRET, uuid).toUpperCase() }],
    ['truncated', { ...proxyHeaders(uuid, tenant), 'X-Instance-ID-Signature': instanceIdSignature(SECRET, uuid).slice(0, 63) }],
  ])('a signature %s: 403, logged without the secret or the expected signature', async (_name, headers) => {
    const response = await get(headers);
    expect(response.status).toBe(403);
    expect(response.text).toContain('Invalid proxy request signature.');
    const logged = response.lines.join('\n');
    expect(logged).toMatch(/WARNING .*X-Instance-ID-Signature does not match/);
    expect(logged).toContain(uuid);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(instanceIdSignature(SECRET, uuid));
  });

  test('a request signed for another instance cannot read this one', async () => {
    const forged = { ...proxyHeaders(other.record.uuid, 'another-project'), 'X-Instance-ID': uuid, 'X-Tenant-ID': tenant };
    expect((await get(forged)).status).toBe(403);
  });

  test.each([
    ['X-Instance-ID', 'X-Instance-ID header is missing from request.'],
    ['X-Tenant-ID', 'X-Tenant-ID header is missing from request.'],
  ])('no %s header: 400 with Nova\'s message', async (name, message) => {
    const headers = Object.fromEntries(Object.entries(proxyHeaders(uuid, tenant)).filter(([key]) => key !== name));
    const response = await get(headers);
    expect([response.status, response.text]).toEqual([400, `400 Bad Request\n\n${message}\n\n   `]);
  });

  test('no X-Instance-ID-Signature header: 403, like a wrong one, and logged', async () => {
    const headers = Object.fromEntries(Object.entries(proxyHeaders(uuid, tenant)).filter(([key]) => key !== 'X-Instance-ID-Signature'));
    const response = await get(headers);
    expect(response.status).toBe(403);
    expect(response.lines.join('\n')).toMatch(/WARNING .*X-Instance-ID-Signature is missing/);
  });

  test.each([
    ['X-Instance-ID', [uuid, uuid], 'Multiple X-Instance-ID headers found within request.'],
    ['X-Tenant-ID', [tenant, tenant], 'Multiple X-Tenant-ID headers found within request.'],
  ])('%s given twice: 400', async (name, values, message) => {
    const response = await get({ ...proxyHeaders(uuid, tenant), [name]: values });
    expect([response.status, response.text]).toEqual([400, `400 Bad Request\n\n${message}\n\n   `]);
  });

  test("a tenant that does not own the instance: 404, logged", async () => {
    const response = await get({ ...proxyHeaders(uuid, tenant), 'X-Tenant-ID': 'another-project' });
    expect(response.status).toBe(404);
    expect(response.lines.join('\n')).toMatch(/WARNING .*Tenant_id does not match/);
  });

  test('a correctly signed instance this host never spawned: 404', async () => {
    const stranger = 'deadbeef-0000-4000-8000-000000000000';
    expect((await get(proxyHeaders(stranger, tenant))).status).toBe(404);
  });

  test('a new shared secret is required at once: no signature made with the old one passes, though the server keeps the signatures it worked out', async () => {
    const renewed = apiConfig({ secret: 'the-renewed-secret' });
    const ask = (config: ReturnType<typeof apiConfig>, headers: Record<string, string>) =>
      withServer({ config, registry }, (server) => rawRequest(server.port, { path: PATH, headers }));
    expect((await ask(apiConfig(), proxyHeaders(uuid, tenant))).status).toBe(200);
    expect((await ask(renewed, proxyHeaders(uuid, tenant))).status).toBe(403);
    expect((await ask(renewed, proxyHeaders(uuid, tenant, 'the-renewed-secret'))).status).toBe(200);
    expect((await ask(apiConfig(), proxyHeaders(uuid, tenant, 'the-renewed-secret'))).status).toBe(403);
  });

  test('header names in any case; Accept sent on several lines counts as those lines joined, as IncomingMessage.headers has it', async () => {
    const lower = Object.fromEntries(Object.entries(proxyHeaders(uuid, tenant)).map(([name, value]) => [name.toLowerCase(), value]));
    expect((await get(lower)).status).toBe(200);
    const missing = async (accept: string | string[]) =>
      withServer({ registry }, (server) => rawRequest(server.port, { path: '/openstack/latest/nothing', headers: { ...proxyHeaders(uuid, tenant), Accept: accept } }));
    const [split, joined] = [await missing(['text/plain;q=0.1', 'application/json']), await missing('text/plain;q=0.1, application/json')];
    expect(split.status).toBe(404);
    expect([split.headers['content-type'], split.body.toString()]).toEqual([joined.headers['content-type'], joined.body.toString()]);
    expect(split.headers['content-type']).not.toEqual((await missing('text/plain;q=0.1')).headers['content-type']);
  });

  test('the signature is compared with crypto.timingSafeEqual', async () => {
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const wrong = instanceIdSignature('not-the-secret', uuid);
      expect((await get({ ...proxyHeaders(uuid, tenant), 'X-Instance-ID-Signature': wrong })).status).toBe(403);
      expect(compare).toHaveBeenCalledWith(Buffer.from(instanceIdSignature(SECRET, uuid)), Buffer.from(wrong));
      compare.mockClear();
      expect((await get(proxyHeaders(uuid, tenant))).status).toBe(200);
      expect(compare).toHaveBeenCalledTimes(1);
    } finally {
      compare.mockRestore();
    }
  });

  test('without a shared secret the server warns at start, as Nova does', async () => {
    const log = memoryLogger();
    await withServer({ config: apiConfig({ secret: '' }), registry, log: log.log }, async () => undefined);
    expect(log.lines.join('\n')).toMatch(/WARNING .*metadata_proxy_shared_secret is not configured/);
  });
});

describe('by the requester address', () => {
  const second = served(fullRequest({ uuid: '0b0e2f3c-1111-4222-8333-444455556666', network_info: [vif({ subnets: [{ ...STATIC_VIF.network.subnets[0]!, ips: [fixedIp('10.0.0.5')] }] })] }));
  const log = memoryLogger().log;

  function request(peer: string, headers: Record<string, string[]> = {}): IdentifyRequest {
    return { method: 'GET', accept: '', peer, headers };
  }

  function who(config: Parameters<typeof identify>[1], req: IdentifyRequest, registry = memoryRegistry(instance.record)) {
    const result = identify(req, config, registry, log);
    return 'error' in result ? result.error.status : { uuid: result.record.uuid, requester: result.requester };
  }

  const byAddress = apiConfig({ proxy: false });
  const forwarded = apiConfig({ proxy: false, use_forwarded_for: true });

  test('a peer that is one of the fixed IPs (IPv4, IPv4-mapped, IPv6 in any spelling)', () => {
    expect(who(byAddress, request('10.0.0.5'))).toEqual({ uuid, requester: '10.0.0.5' });
    expect(who(byAddress, request('::ffff:172.16.3.10'))).toEqual({ uuid, requester: '172.16.3.10' });
    expect(who(byAddress, request('2001:DB8:1::F816:3EFF:FE12:3456'))).toEqual({ uuid, requester: '2001:db8:1:0:f816:3eff:fe12:3456' });
  });

  test('an unknown peer: 404', () => {
    expect(who(byAddress, request('10.0.0.6'))).toBe(404);
  });

  test('X-Forwarded-For is ignored unless [api] use_forwarded_for is set', () => {
    expect(who(byAddress, request('127.0.0.1', { 'x-forwarded-for': ['10.0.0.5'] }))).toBe(404);
    expect(who(forwarded, request('127.0.0.1', { 'x-forwarded-for': ['10.0.0.5'] }))).toEqual({ uuid, requester: '10.0.0.5' });
  });

  test('X-Forwarded-For is believed from a proxy on this host only, never from a guest', () => {
    expect(who(forwarded, request('::1', { 'x-forwarded-for': ['10.0.0.5'] }))).toEqual({ uuid, requester: '10.0.0.5' });
    expect(who(forwarded, request('172.16.3.10', { 'x-forwarded-for': ['10.0.0.99'] }))).toEqual({ uuid, requester: '172.16.3.10' });
    expect(who(forwarded, request('192.0.2.7', { 'x-forwarded-for': ['10.0.0.5'] }))).toBe(404);
  });

  test('of a list, the entry the local proxy appended (the last) counts', () => {
    expect(who(forwarded, request('127.0.0.1', { 'x-forwarded-for': ['10.0.0.5, 192.0.2.7'] }))).toBe(404);
    expect(who(forwarded, request('127.0.0.1', { 'x-forwarded-for': ['192.0.2.7, 10.0.0.5'] }))).toEqual({ uuid, requester: '10.0.0.5' });
    expect(who(forwarded, request('127.0.0.1', { 'x-forwarded-for': ['192.0.2.7', '10.0.0.5'] }))).toEqual({ uuid, requester: '10.0.0.5' });
  });

  test('an address two instances share (overlapping project networks) identifies nobody: 500, as Nova', () => {
    const registry = memoryRegistry(instance.record, second.record);
    expect(who(byAddress, request('10.0.0.5'), registry)).toBe(500);
    expect(who(byAddress, request('172.16.3.10'), registry)).toEqual({ uuid, requester: '172.16.3.10' });
  });
});
