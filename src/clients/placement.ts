/**
 * The placement calls a compute service makes, each with the microversion Nova's report client uses
 * (nova/scheduler/client/report.py). Writes that carry a provider generation are read-modify-write: on
 * placement.concurrent_update the provider is read again and the change recomputed, a bounded number of times.
 */
import type { Adapter } from './adapter.js';
import { ServiceCallFailed } from './errors.js';

export interface ResourceProvider {
  uuid: string;
  name: string;
  generation: number;
  parent_provider_uuid: string | null;
  root_provider_uuid: string;
}

/** One resource class's inventory record, as PUT /resource_providers/{uuid}/inventories takes it. */
export interface InventoryRecord {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

/** By resource class (VCPU, MEMORY_MB, DISK_GB). */
export type Inventories = Record<string, InventoryRecord>;

export interface Generational<T> {
  /** resource_provider_generation */
  generation: number;
  value: T;
}

/** GET /allocations/{consumer} at 1.28: by provider uuid; empty when the consumer has none. */
export interface ConsumerAllocations {
  allocations: Record<string, { generation: number; resources: Record<string, number> }>;
  consumer_generation?: number | null;
  project_id?: string;
  user_id?: string;
}

const NESTED_PROVIDER = '1.14';
const POST_RPS_RETURNS_PAYLOAD = '1.20';
const ALLOW_RESERVED_EQUAL_TOTAL_INVENTORY = '1.26';
const TRAITS = '1.6';
const CONSUMER_GENERATION = '1.28';

/** Nova's report client retries a generation conflict at most this often (@retrying.retry in update_from_provider_tree: 4 attempts). */
export const DEFAULT_CONFLICT_ATTEMPTS = 4;

/** Placement's error body (1.23+): {"errors": [{"status", "code", "title", "detail"}]}. */
async function placementError(response: Response): Promise<{ code: string | null; detail: string }> {
  const text = await response.text();
  try {
    const first = (JSON.parse(text) as { errors?: { code?: string; detail?: string; title?: string }[] }).errors?.[0];
    if (first) return { code: first.code ?? null, detail: (first.detail ?? first.title ?? '').replace(/\s+/g, ' ').trim() };
  } catch {
    // Not placement's JSON: its first line.
  }
  return { code: null, detail: text.split('\n')[0]!.slice(0, 200) };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sortedInventories(inventories: Inventories): Inventories {
  return Object.fromEntries(Object.keys(inventories).sort().map((rc) => [rc, inventories[rc]!]));
}

export class PlacementClient {
  constructor(
    private readonly adapter: Adapter,
    private readonly conflictAttempts = DEFAULT_CONFLICT_ATTEMPTS,
  ) {}

  /** One call: its answer when the status is one of `ok`, else ServiceCallFailed naming the call and status. */
  private async call(method: string, path: string, version: string | null, ok: readonly number[], json?: unknown): Promise<Response> {
    const headers: Record<string, string> = version === null ? {} : { 'OpenStack-API-Version': `placement ${version}` };
    const response = await this.adapter.request(method, path, { headers, ...(json === undefined ? {} : { json }) });
    if (ok.includes(response.status)) return response;
    const { code, detail } = await placementError(response);
    throw new ServiceCallFailed(`${method} ${path}`, this.adapter.section, response.status, code, detail);
  }

  private async callJson<T>(method: string, path: string, version: string | null, json?: unknown): Promise<T> {
    return (await (await this.call(method, path, version, [200, 201], json)).json()) as T;
  }

  /** GET /resource_providers?in_tree={uuid}: the provider and its tree; empty when there is none. */
  async providersInTree(uuid: string): Promise<ResourceProvider[]> {
    const body = await this.callJson<{ resource_providers: ResourceProvider[] }>('GET', `/resource_providers?in_tree=${uuid}`, NESTED_PROVIDER);
    return body.resource_providers;
  }

  /** POST /resource_providers: the compute node's provider (name = hypervisor_hostname, uuid = the ComputeNode's). */
  async createProvider(provider: { uuid: string; name: string }): Promise<ResourceProvider> {
    return this.callJson('POST', '/resource_providers', POST_RPS_RETURNS_PAYLOAD, provider);
  }

  /**
   * The provider with this uuid, created if placement has none, as Nova's _ensure_resource_provider. Another
   * writer creating it meanwhile (409) is no failure: it is read back.
   */
  async ensureProvider(provider: { uuid: string; name: string }): Promise<ResourceProvider> {
    const existing = (await this.providersInTree(provider.uuid)).find((p) => p.uuid === provider.uuid);
    if (existing) return existing;
    try {
      return await this.createProvider(provider);
    } catch (error) {
      if (!(error instanceof ServiceCallFailed && error.status === 409)) throw error;
      const raced = (await this.providersInTree(provider.uuid)).find((p) => p.uuid === provider.uuid);
      if (raced) return raced;
      throw error;
    }
  }

  /** GET /resource_providers/{uuid}/inventories */
  async inventories(uuid: string): Promise<Generational<Inventories>> {
    const body = await this.callJson<{ resource_provider_generation: number; inventories: Inventories }>(
      'GET',
      `/resource_providers/${uuid}/inventories`,
      null,
    );
    return { generation: body.resource_provider_generation, value: body.inventories };
  }

  /**
   * Sets the provider's inventory to `desired(what placement has)` (so that an allocation ratio set in
   * placement can be kept, as Nova's _get_allocation_ratios does); nothing is written when it is unchanged.
   */
  async updateInventories(uuid: string, desired: (current: Inventories) => Inventories): Promise<Generational<Inventories>> {
    return this.readModifyWrite(
      () => this.inventories(uuid),
      (current) => sortedInventories(desired(current)),
      (inventories, current) => sameJson(sortedInventories(current), inventories),
      async (inventories, generation) => {
        const body = await this.callJson<{ resource_provider_generation: number; inventories: Inventories }>(
          'PUT',
          `/resource_providers/${uuid}/inventories`,
          ALLOW_RESERVED_EQUAL_TOTAL_INVENTORY,
          { resource_provider_generation: generation, inventories },
        );
        return { generation: body.resource_provider_generation, value: body.inventories };
      },
    );
  }

  /** GET /resource_providers/{uuid}/traits, sorted. */
  async traits(uuid: string): Promise<Generational<string[]>> {
    const body = await this.callJson<{ resource_provider_generation: number; traits: string[] }>('GET', `/resource_providers/${uuid}/traits`, TRAITS);
    return { generation: body.resource_provider_generation, value: body.traits.sort() };
  }

  /**
   * Sets the provider's traits to `desired(what placement has)` (traits an operator set stay unless `desired`
   * drops them); traits placement does not know yet (CUSTOM_*) are created first, as Nova's _ensure_traits.
   */
  async updateTraits(uuid: string, desired: (current: string[]) => string[]): Promise<Generational<string[]>> {
    return this.readModifyWrite(
      () => this.traits(uuid),
      (current) => [...new Set(desired(current))].sort(),
      (traits, current) => sameJson(current, traits),
      async (traits, generation) => {
        await this.ensureTraits(traits);
        const body = await this.callJson<{ resource_provider_generation: number; traits: string[] }>('PUT', `/resource_providers/${uuid}/traits`, TRAITS, {
          resource_provider_generation: generation,
          traits,
        });
        return { generation: body.resource_provider_generation, value: body.traits.sort() };
      },
    );
  }

  /** GET /traits?name=in:..., then PUT /traits/{name} for each one placement lacks. */
  async ensureTraits(traits: readonly string[]): Promise<void> {
    if (traits.length === 0) return;
    const known = new Set((await this.callJson<{ traits: string[] }>('GET', `/traits?name=in:${traits.join(',')}`, TRAITS)).traits);
    for (const trait of traits.filter((t) => !known.has(t))) await this.call('PUT', `/traits/${trait}`, TRAITS, [201, 204]);
  }

  /** GET /allocations/{consumer} at 1.28 (with the consumer generation). */
  async allocations(consumer: string): Promise<ConsumerAllocations> {
    return this.callJson('GET', `/allocations/${consumer}`, CONSUMER_GENERATION);
  }

  /** DELETE /allocations/{consumer}, as Nova's delete_allocation_for_instance(force=True): false when it had none. */
  async deleteAllocations(consumer: string): Promise<boolean> {
    return (await this.call('DELETE', `/allocations/${consumer}`, null, [204, 404])).status === 204;
  }

  /** GET /resource_providers/{uuid}/allocations: by consumer, what the periodic update compares with its instances. */
  async providerAllocations(uuid: string): Promise<Record<string, { resources: Record<string, number> }>> {
    return (await this.callJson<{ allocations: Record<string, { resources: Record<string, number> }> }>('GET', `/resource_providers/${uuid}/allocations`, null))
      .allocations;
  }

  /** Read, compute, write with the generation read; placement.concurrent_update starts over, conflictAttempts times in all. */
  private async readModifyWrite<T>(
    read: () => Promise<Generational<T>>,
    compute: (current: T) => T,
    unchanged: (next: T, current: T) => boolean,
    write: (next: T, generation: number) => Promise<Generational<T>>,
  ): Promise<Generational<T>> {
    for (let attempt = 1; ; attempt++) {
      const current = await read();
      const next = compute(current.value);
      if (unchanged(next, current.value)) return current;
      try {
        return await write(next, current.generation);
      } catch (error) {
        const conflict = error instanceof ServiceCallFailed && error.code === 'placement.concurrent_update';
        if (!conflict || attempt >= this.conflictAttempts) throw error;
      }
    }
  }
}
