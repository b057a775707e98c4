/**
 * The placement client against the real placement of scripts/control-plane (noauth2), with keystoneauth's
 * admin_token plugin as the control plane's own nova.conf has it.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Adapter } from '../../src/clients/adapter.js';
import { ServiceCallFailed } from '../../src/clients/errors.js';
import { PlacementClient, type Inventories } from '../../src/clients/placement.js';
import { sessionFromConfig } from '../../src/clients/session.js';
import { loadConfig } from '../../src/config/load.js';
import type { NovaConfig } from '../../src/config/schema.js';
import { closedPort } from '../helpers/closed-port.js';
import { CONTROL_PLANE_START_MS, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';

let plane: ControlPlane;
const created: string[] = [];

function placementConfig(overrides: Partial<NovaConfig['placement']> = {}): NovaConfig['placement'] {
  return { ...loadConfig([]).config.placement, auth_type: 'admin_token', endpoint: plane.placement_url, token: plane.token, ...overrides };
}

function client(overrides: Partial<NovaConfig['placement']> = {}, attempts?: number): PlacementClient {
  const options = placementConfig(overrides);
  return new PlacementClient(new Adapter(sessionFromConfig('placement', options)!, 'placement', options), attempts);
}

/** A request as another writer (the scheduler, an operator) would send it. */
async function placement(method: string, path: string, version: string, json?: unknown): Promise<Response> {
  return fetch(`${plane.placement_url}${path}`, {
    method,
    headers: { 'X-Auth-Token': plane.token, 'OpenStack-API-Version': `placement ${version}`, 'Content-Type': 'application/json' },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
}

/**
 * Another writer (an operator setting a trait) changes the provider's generation, synchronously: from inside
 * the client's compute step, between its read and its write.
 */
function bumpGeneration(uuid: string): void {
  const curl = (...args: string[]) =>
    execFileSync('curl', ['-fsS', '-H', `X-Auth-Token: ${plane.token}`, '-H', 'OpenStack-API-Version: placement 1.6', ...args], { encoding: 'utf8' });
  const { resource_provider_generation: generation } = JSON.parse(curl(`${plane.placement_url}/resource_providers/${uuid}/traits`)) as {
    resource_provider_generation: number;
  };
  const body = JSON.stringify({ resource_provider_generation: generation, traits: [`CUSTOM_OPERATOR_${generation}`] });
  curl('-X', 'PUT', `${plane.placement_url}/traits/CUSTOM_OPERATOR_${generation}`);
  curl('-X', 'PUT', '-H', 'Content-Type: application/json', '-d', body, `${plane.placement_url}/resource_providers/${uuid}/traits`);
}

async function newProvider(api: PlacementClient): Promise<string> {
  const uuid = randomUUID();
  created.push(uuid);
  await api.ensureProvider({ uuid, name: `nova-spawnd-test-${uuid}` });
  return uuid;
}

const INVENTORY: Inventories = {
  VCPU: { total: 8, reserved: 0, min_unit: 1, max_unit: 8, step_size: 1, allocation_ratio: 16 },
  MEMORY_MB: { total: 16384, reserved: 512, min_unit: 1, max_unit: 16384, step_size: 1, allocation_ratio: 1.5 },
  DISK_GB: { total: 100, reserved: 0, min_unit: 1, max_unit: 100, step_size: 1, allocation_ratio: 1 },
};

beforeAll(async () => {
  plane = await startControlPlane();
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  for (const uuid of created) {
    await fetch(`${plane.placement_url}/allocations/${uuid}`, { method: 'DELETE', headers: { 'X-Auth-Token': plane.token } });
    await placement('DELETE', `/resource_providers/${uuid}`, '1.14');
  }
});

describe('resource providers', () => {
  test('ensureProvider creates the provider once, named as given, and finds it after', async () => {
    const api = client();
    const uuid = randomUUID();
    created.push(uuid);
    expect(await api.providersInTree(uuid)).toEqual([]);
    const first = await api.ensureProvider({ uuid, name: `node-${uuid}` });
    expect(first).toMatchObject({ uuid, name: `node-${uuid}`, generation: 0, root_provider_uuid: uuid, parent_provider_uuid: null });
    expect(await api.ensureProvider({ uuid, name: `node-${uuid}` })).toEqual(first);
    expect((await api.providersInTree(uuid)).map((p) => p.uuid)).toEqual([uuid]);
  });

  test('a name another provider holds is a 409 naming the call, not retryable', async () => {
    const api = client();
    const uuid = await newProvider(api);
    const error = await api.createProvider({ uuid: randomUUID(), name: `nova-spawnd-test-${uuid}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceCallFailed);
    expect(error).toMatchObject({ status: 409, call: 'POST /resource_providers', section: 'placement', retryable: false });
    expect((error as Error).message).toMatch(/^\[placement\] POST \/resource_providers: HTTP 409: .*already exists/);
  });
});

describe('inventory', () => {
  test('is written with the generation, read back as sent, and not written again when unchanged', async () => {
    const api = client();
    const uuid = await newProvider(api);
    const seen: Inventories[] = [];
    const written = await api.updateInventories(uuid, (current) => (seen.push(current), INVENTORY));
    expect(seen).toEqual([{}]);
    expect(written).toEqual({ generation: 1, value: INVENTORY });
    expect(await api.updateInventories(uuid, () => INVENTORY)).toEqual({ generation: 1, value: INVENTORY });
    expect((await api.inventories(uuid)).generation).toBe(1);
  });

  test("reserved equal to total is accepted (microversion 1.26), as Nova's reserved_host_cpus may make it", async () => {
    const api = client();
    const uuid = await newProvider(api);
    const full = { VCPU: { ...INVENTORY['VCPU']!, reserved: 8 } };
    expect((await api.updateInventories(uuid, () => full)).value).toEqual(full);
  });

  test('a concurrent update (placement.concurrent_update) is read again and redone', async () => {
    const api = client();
    const uuid = await newProvider(api);
    let calls = 0;
    const result = await api.updateInventories(uuid, (current) => {
      if (++calls === 1) bumpGeneration(uuid);
      return { ...current, ...INVENTORY };
    });
    expect(calls).toBe(2);
    expect(result).toEqual({ generation: 2, value: INVENTORY });
  });

  test('conflicts that outlast the attempts end in a retryable error naming the call', async () => {
    const api = client({}, 3);
    const uuid = await newProvider(api);
    let calls = 0;
    const error = await api
      .updateInventories(uuid, () => {
        calls++;
        bumpGeneration(uuid);
        return INVENTORY;
      })
      .catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(error).toBeInstanceOf(ServiceCallFailed);
    expect(error).toMatchObject({ status: 409, code: 'placement.concurrent_update', call: `PUT /resource_providers/${uuid}/inventories`, retryable: true });
  });

  test('a provider placement does not have is a 404, not retryable', async () => {
    const uuid = randomUUID();
    const error = await client().updateInventories(uuid, () => INVENTORY).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, call: `GET /resource_providers/${uuid}/inventories`, retryable: false });
  });
});

describe('traits', () => {
  test("are set with custom ones created, an operator's trait kept, and not written again when unchanged", async () => {
    const api = client();
    const uuid = await newProvider(api);
    bumpGeneration(uuid);
    const custom = `CUSTOM_NOVA_SPAWND_${uuid.replace(/-/g, '_').toUpperCase()}`;
    const ours = ['COMPUTE_NODE', 'COMPUTE_IMAGE_TYPE_QCOW2', custom];
    const set = await api.updateTraits(uuid, (current) => [...current, ...ours]);
    expect(set.value).toEqual(['COMPUTE_IMAGE_TYPE_QCOW2', 'COMPUTE_NODE', 'CUSTOM_OPERATOR_0', custom].sort());
    expect(await api.updateTraits(uuid, (current) => current)).toEqual(set);
    expect(await api.traits(uuid)).toEqual(set);
  });

  test('a trait that is neither standard nor CUSTOM_ cannot be created: 400 naming the call', async () => {
    const error = await client().ensureTraits(['NOT_A_TRAIT']).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, call: 'PUT /traits/NOT_A_TRAIT', retryable: false });
  });
});

describe('allocations', () => {
  test('are read with the consumer generation and deleted, as on terminate', async () => {
    const api = client();
    const provider = await newProvider(api);
    await api.updateInventories(provider, () => INVENTORY);
    const consumer = randomUUID();
    created.push(consumer);
    expect(await api.allocations(consumer)).toEqual({ allocations: {} });
    // As the scheduler claims a server's resources.
    const claim = await placement('PUT', `/allocations/${consumer}`, '1.28', {
      allocations: { [provider]: { resources: { VCPU: 2, MEMORY_MB: 512, DISK_GB: 1 } } },
      project_id: randomUUID(),
      user_id: randomUUID(),
      consumer_generation: null,
    });
    expect(claim.status).toBe(204);
    expect(await api.allocations(consumer)).toMatchObject({
      allocations: { [provider]: { resources: { VCPU: 2, MEMORY_MB: 512, DISK_GB: 1 } } },
      consumer_generation: 1,
    });
    expect(await api.providerAllocations(provider)).toEqual({ [consumer]: { resources: { VCPU: 2, MEMORY_MB: 512, DISK_GB: 1 } } });
    expect(await api.deleteAllocations(consumer)).toBe(true);
    expect(await api.deleteAllocations(consumer)).toBe(false);
    expect(await api.providerAllocations(provider)).toEqual({});
  });
});

describe('the service unreachable', () => {
  test('is a retryable error naming the call, with no status', async () => {
    const error = await client({ endpoint: `http://127.0.0.1:${await closedPort()}` }).providersInTree(randomUUID()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceCallFailed);
    expect(error).toMatchObject({ status: null, retryable: true, section: 'placement' });
    expect((error as Error).message).toMatch(/^\[placement\] GET \/resource_providers\?in_tree=.*: no answer: .*ECONNREFUSED/);
  });

  test('endpoint_override wins over the admin_token endpoint', async () => {
    const api = client({ endpoint: `http://127.0.0.1:${await closedPort()}`, endpoint_override: plane.placement_url });
    expect(await api.providersInTree(randomUUID())).toEqual([]);
  });
});
