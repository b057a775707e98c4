/**
 * auth_type = password against a real Keystone (scripts/keystone), through a placement that really checks every
 * token with Keystone (auth_strategy = keystone, no token cache): tokens that live 12 s, renewed; a refused token
 * fetched again; a wrong password named by section and URL, never shown.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Adapter } from '../../src/clients/adapter.js';
import { AuthenticationFailed, EndpointNotFound } from '../../src/clients/errors.js';
import { PlacementClient } from '../../src/clients/placement.js';
import { sessionFromConfig, type Session, type SessionOptions } from '../../src/clients/session.js';
import { loadConfig } from '../../src/config/load.js';
import type { NovaConfig } from '../../src/config/schema.js';
import { closedPort } from '../helpers/closed-port.js';
import { KEYSTONE_START_MS, startKeystone, type Keystone } from '../control-plane/keystone.js';

let keystone: Keystone;
const providers: string[] = [];

/** [placement] as a deployment writes it for nova-compute: no endpoint_override, the catalog decides. */
function placementSection(overrides: Partial<NovaConfig['placement']> = {}): NovaConfig['placement'] {
  return {
    ...loadConfig([]).config.placement,
    auth_type: 'password',
    auth_url: keystone.keystone_url,
    username: keystone.nova.username,
    password: keystone.nova.password,
    user_domain_name: keystone.nova.domain,
    project_name: keystone.nova.project_name,
    project_domain_name: keystone.nova.domain,
    region_name: keystone.region,
    ...overrides,
  };
}

function placementClient(
  overrides: Partial<NovaConfig['placement']> = {},
  sessionOptions: SessionOptions = {},
): { session: Session; adapter: Adapter; api: PlacementClient } {
  const section = placementSection(overrides);
  const session = sessionFromConfig('placement', section, sessionOptions)!;
  const adapter = new Adapter(session, 'placement', section);
  return { session, adapter, api: new PlacementClient(adapter) };
}

/** A token of the admin user, to revoke another token with. */
async function adminToken(): Promise<string> {
  const { admin } = keystone;
  const response = await fetch(`${keystone.keystone_url}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: admin.username, domain: { name: admin.domain }, password: admin.password } } },
        scope: { project: { name: admin.project_name, domain: { name: admin.domain } } },
      },
    }),
  });
  expect(response.status).toBe(201);
  return response.headers.get('X-Subject-Token')!;
}

async function placementStatus(token: string): Promise<number> {
  return (await fetch(`${keystone.placement_url}/resource_providers`, { headers: { 'X-Auth-Token': token } })).status;
}

beforeAll(async () => {
  keystone = await startKeystone();
}, KEYSTONE_START_MS);

afterAll(async () => {
  if (providers.length === 0) return;
  const { adapter } = placementClient();
  for (const uuid of providers) await adapter.request('DELETE', `/resource_providers/${uuid}`);
});

test('a token from Keystone, placement found in its catalog, a provider and its inventory written', async () => {
  const { session, api } = placementClient();
  const access = await session.getAccess();
  expect(access.catalog?.some((service) => service.type === 'placement')).toBe(true);
  expect(access.expiresAt! - Date.now()).toBeLessThanOrEqual(keystone.token_expiration * 1000);
  const uuid = randomUUID();
  providers.push(uuid);
  await api.ensureProvider({ uuid, name: `keystone-test-${uuid}` });
  const inventory = { VCPU: { total: 4, reserved: 0, min_unit: 1, max_unit: 4, step_size: 1, allocation_ratio: 16 } };
  expect((await api.updateInventories(uuid, () => inventory)).value).toEqual(inventory);
});

test('concurrent callers share one token fetch', async () => {
  const { session } = placementClient();
  const tokens = new Set((await Promise.all(Array.from({ length: 10 }, () => session.getAccess()))).map((a) => a.token));
  // Keystone gives every fetch a token of its own (fernet tokens hold a random audit id).
  expect(tokens.size).toBe(1);
});

test('a token about to expire is renewed before it is used; the old one, expired, placement refuses', async () => {
  // The waits below follow the token's life: scripts/keystone's default of 12 s, not Keystone's hour.
  expect(keystone.token_expiration).toBeLessThanOrEqual(15);
  const renewBeforeMs = 4000;
  const { session, api } = placementClient({}, { renewBeforeMs });
  const first = await session.getAccess();
  expect(await api.providersInTree(randomUUID())).toEqual([]);
  expect((await session.getAccess()).token).toBe(first.token);

  await sleep(first.expiresAt! - renewBeforeMs + 500 - Date.now());
  expect(await api.providersInTree(randomUUID())).toEqual([]);
  const second = await session.getAccess();
  expect(second.token).not.toBe(first.token);
  expect(second.expiresAt!).toBeGreaterThan(first.expiresAt!);

  await sleep(first.expiresAt! + 1000 - Date.now());
  expect(await placementStatus(first.token)).toBe(401);
  expect(await placementStatus(second.token)).toBe(200);
  expect(await api.providersInTree(randomUUID())).toEqual([]);
}, 30_000);

test('a token placement refuses (revoked) is fetched again and the call sent once more', async () => {
  const { session, api } = placementClient();
  const revoked = (await session.getAccess()).token;
  const response = await fetch(`${keystone.keystone_url}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'X-Auth-Token': await adminToken(), 'X-Subject-Token': revoked },
  });
  expect(response.status).toBe(204);
  expect(await placementStatus(revoked)).toBe(401);
  expect(await api.providersInTree(randomUUID())).toEqual([]);
  expect((await session.getAccess()).token).not.toBe(revoked);
});

test('a wrong password: AuthenticationFailed naming the section, the URL and the status, never the password', async () => {
  const password = `wrong-${randomUUID()}`;
  const { api } = placementClient({ password });
  const error = await api.providersInTree(randomUUID()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AuthenticationFailed);
  expect(error).toMatchObject({ section: 'placement', url: `${keystone.keystone_url}/auth/tokens`, status: 401, retryable: false });
  expect((error as Error).message).toMatch(/^\[placement\] authentication at http:\/\/127\.0\.0\.1:\d+\/v3\/auth\/tokens failed: HTTP 401: /);
  expect(JSON.stringify(error) + (error as Error).message + (error as Error).stack).not.toContain(password);
});

test('Keystone unreachable: AuthenticationFailed without a status, retryable', async () => {
  const { api } = placementClient({ auth_url: `http://127.0.0.1:${await closedPort()}/v3` });
  const error = await api.providersInTree(randomUUID()).catch((e: unknown) => e);
  expect(error).toMatchObject({ section: 'placement', status: null, retryable: true });
  expect((error as Error).message).toMatch(/no answer: .*ECONNREFUSED/);
});

test('a service_type the catalog lacks: EndpointNotFound naming the section and what was looked for', async () => {
  const { api } = placementClient({ service_type: 'no-such-service', valid_interfaces: ['internal'] });
  const error = await api.providersInTree(randomUUID()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(EndpointNotFound);
  expect((error as Error).message).toBe(
    '[placement] no endpoint in the service catalog for service_type no-such-service, interfaces internal, region RegionOne; set endpoint_override or fix the catalog',
  );
});
