import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Inventories } from '../../src/clients/placement.js';
import { loadConfig } from '../../src/config/load.js';
import { computeNodeInventory, mbToCeilGb, type InventoryOptions, type NodeTotals } from '../../src/resources/inventory.js';
import { CAPABILITY_TRAITS, computeNodeTraits } from '../../src/resources/traits.js';

const helpers = new URL('../helpers/', import.meta.url).pathname;
const defaults = loadConfig([]).config.DEFAULT;

interface Case {
  name: string;
  totals: NodeTotals;
  options: Partial<InventoryOptions>;
  /** What placement has now. */
  inventory: Inventories;
  traits: string[];
  disabled: boolean;
}

const PLACED: Inventories = {
  VCPU: { total: 4, reserved: 0, min_unit: 1, max_unit: 4, step_size: 1, allocation_ratio: 4.0 },
  MEMORY_MB: { total: 2048, reserved: 0, min_unit: 1, max_unit: 2048, step_size: 1, allocation_ratio: 1.25 },
  DISK_GB: { total: 10, reserved: 0, min_unit: 1, max_unit: 10, step_size: 1, allocation_ratio: 3.0 },
};

const CASES: Case[] = [
  { name: 'a new node, every default', totals: { vcpus: 8, memory_mb: 16384, local_gb: 100 }, options: {}, inventory: {}, traits: [], disabled: false },
  {
    name: 'reserved host resources, disk rounded up to GiB',
    totals: { vcpus: 8, memory_mb: 16384, local_gb: 100 },
    options: { reserved_host_cpus: 2, reserved_host_memory_mb: 2048, reserved_host_disk_mb: 1025 },
    inventory: {},
    traits: [],
    disabled: false,
  },
  {
    name: 'ratios placement already has are kept when unset here',
    totals: { vcpus: 8, memory_mb: 16384, local_gb: 100 },
    options: { initial_cpu_allocation_ratio: 2.0 },
    inventory: PLACED,
    traits: ['CUSTOM_GOLD', 'COMPUTE_IMAGE_TYPE_ISO', 'COMPUTE_STATUS_DISABLED'],
    disabled: false,
  },
  {
    name: 'configured ratios win over placement, 0.0 counts as unset',
    totals: { vcpus: 8, memory_mb: 16384, local_gb: 100 },
    options: { cpu_allocation_ratio: 2.5, ram_allocation_ratio: 0.0, disk_allocation_ratio: 1.5 },
    inventory: PLACED,
    traits: ['COMPUTE_NODE'],
    disabled: true,
  },
  {
    name: 'no disk: DISK_GB left out; reserved equal to total',
    totals: { vcpus: 2, memory_mb: 512, local_gb: 0 },
    options: { reserved_host_cpus: 2 },
    inventory: {},
    traits: [],
    disabled: true,
  },
];

/** Nova's own answer for every case (LibvirtDriver.update_provider_tree, ResourceTracker._get_traits). */
function novaResults(): { capability_traits: string[]; results: { inventory: Inventories; traits: string[] }[] } {
  const input = JSON.stringify({ capability_traits: CAPABILITY_TRAITS, cases: CASES });
  return JSON.parse(execFileSync('/usr/bin/python3', [join(helpers, 'nova_provider_tree.py')], { input, encoding: 'utf8' })) as ReturnType<
    typeof novaResults
  >;
}

const nova = novaResults();

test("the capability traits are exactly Nova 26's CAPABILITY_TRAITS_MAP", () => {
  expect(Object.keys(CAPABILITY_TRAITS).sort()).toEqual(nova.capability_traits);
});

test.each(CASES.map((c, i) => [c.name, i] as const))('%s: as Nova reports it', (_name, index) => {
  const testCase = CASES[index]!;
  const options = { ...defaults, ...testCase.options };
  expect(computeNodeInventory(testCase.totals, options, testCase.inventory)).toEqual(nova.results[index]!.inventory);
  expect(computeNodeTraits(testCase.traits, testCase.disabled)).toEqual(nova.results[index]!.traits);
});

test('only qcow2 and raw images, and the node itself', () => {
  expect(computeNodeTraits([], false)).toEqual(['COMPUTE_IMAGE_TYPE_QCOW2', 'COMPUTE_IMAGE_TYPE_RAW', 'COMPUTE_NODE']);
});

test.each([
  [0, 0],
  [1, 1],
  [1024, 1],
  [1025, 2],
  [2048, 2],
])('reserved_host_disk_mb %d reserves %d GiB', (mb, gb) => {
  expect(mbToCeilGb(mb)).toBe(gb);
});
