/**
 * NeutronClient.instanceSecurityGroups as a pure unit test: a local HTTP server answers as neutron-server
 * does (the real one comes with the networking work); the expected lists follow Nova's
 * get_instances_security_groups_bindings for the same ports and groups.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceCallFailed } from '../../src/clients/errors.js';
import { NeutronClient } from '../../src/clients/neutron.js';
import { loadConfig } from '../../src/config/load.js';
import type { NovaConfig } from '../../src/config/schema.js';

const INSTANCE = '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10';

let server: Server;
let url: string;
const seen: { path: string; token: string | undefined }[] = [];
let answer: (request: IncomingMessage) => { status: number; body: unknown };

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ path: request.url!, token: request.headers['x-auth-token'] as string | undefined });
    const { status, body } = answer(request);
    response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen.length = 0;
});

function neutron(overrides: Partial<NovaConfig['neutron']> = {}): NeutronClient {
  return new NeutronClient({ ...loadConfig([]).config.neutron, ...overrides });
}

test("the groups of the instance's ports, port by port, by name (else id), those the user cannot see left out", async () => {
  answer = (request) =>
    request.url!.startsWith('/v2.0/ports')
      ? { status: 200, body: { ports: [{ security_groups: ['sg-b', 'sg-a'] }, { security_groups: ['sg-a', 'sg-hidden', 'sg-unnamed'] }, {}] } }
      : { status: 200, body: { security_groups: [{ id: 'sg-a', name: 'default' }, { id: 'sg-b', name: 'web' }, { id: 'sg-unnamed', name: '' }] } };
  const groups = await neutron({ endpoint_override: url }).instanceSecurityGroups({ auth_token: 'user-token', service_catalog: [] }, INSTANCE);
  expect(groups).toEqual(['web', 'default', 'default', 'sg-unnamed']);
  expect(seen).toEqual([
    { path: `/v2.0/ports?device_id=${INSTANCE}`, token: 'user-token' },
    { path: '/v2.0/security-groups?id=sg-b&id=sg-a&id=sg-hidden&id=sg-unnamed&fields=id&fields=name', token: 'user-token' },
  ]);
});

test("no ports: no groups, and no second call; the endpoint from the request's catalog", async () => {
  answer = () => ({ status: 200, body: { ports: [] } });
  const catalog = [{ type: 'network', endpoints: [{ interface: 'public', url: `${url}/` }] }];
  await expect(neutron().instanceSecurityGroups({ auth_token: 'user-token', service_catalog: catalog }, INSTANCE)).resolves.toEqual([]);
  expect(seen.map((request) => request.path)).toEqual([`/v2.0/ports?device_id=${INSTANCE}`]);
});

test('a refusal names the call and the status; no user token is refused before any call', async () => {
  answer = () => ({ status: 401, body: { NeutronError: { type: 'NotAuthorized', message: 'token expired', detail: '' } } });
  const failure = await neutron({ endpoint_override: url }).instanceSecurityGroups({ auth_token: 'user-token', service_catalog: [] }, INSTANCE).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ServiceCallFailed);
  expect((failure as Error).message).toBe('[neutron] GET /v2.0/ports: HTTP 401 NotAuthorized: token expired');
  expect((failure as Error).message).not.toContain('user-token');
  expect(seen).toHaveLength(1);
  await expect(neutron({ endpoint_override: url }).instanceSecurityGroups({ auth_token: null, service_catalog: [] }, INSTANCE)).rejects.toMatchObject({
    message: expect.stringMatching(/no user token/),
    retryable: false,
  });
  expect(seen).toHaveLength(1);
});
