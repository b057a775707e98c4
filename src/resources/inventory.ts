/**
 * The compute node's inventory in placement, as Nova's libvirt driver reports it (update_provider_tree): VCPU,
 * MEMORY_MB and DISK_GB from the node's totals, the reserved_host_* options and the allocation ratios.
 */
import type { InventoryRecord, Inventories } from '../clients/placement.js';
import type { NovaConfig } from '../config/schema.js';

/** The ComputeNode's totals: vcpus, memory_mb, local_gb (of instances_path's file system). */
export interface NodeTotals {
  vcpus: number;
  memory_mb: number;
  local_gb: number;
}

export type InventoryOptions = Pick<
  NovaConfig['DEFAULT'],
  | 'cpu_allocation_ratio'
  | 'initial_cpu_allocation_ratio'
  | 'ram_allocation_ratio'
  | 'initial_ram_allocation_ratio'
  | 'disk_allocation_ratio'
  | 'initial_disk_allocation_ratio'
  | 'reserved_host_cpus'
  | 'reserved_host_memory_mb'
  | 'reserved_host_disk_mb'
>;

type Ratios = { VCPU: number; MEMORY_MB: number; DISK_GB: number };

/**
 * ComputeDriver._get_allocation_ratios: the configured ratio if set (0.0 counts as unset, as Python's truth
 * does), else the one placement already has (an operator may have set it there), else initial_*.
 */
export function allocationRatios(options: InventoryOptions, current: Inventories): Ratios {
  const ratio = (configured: number | null, initial: number, resourceClass: keyof Ratios): number =>
    configured ? configured : (current[resourceClass]?.allocation_ratio ?? initial);
  return {
    VCPU: ratio(options.cpu_allocation_ratio, options.initial_cpu_allocation_ratio, 'VCPU'),
    MEMORY_MB: ratio(options.ram_allocation_ratio, options.initial_ram_allocation_ratio, 'MEMORY_MB'),
    DISK_GB: ratio(options.disk_allocation_ratio, options.initial_disk_allocation_ratio, 'DISK_GB'),
  };
}

/** compute_utils.convert_mb_to_ceil_gb: whole GiB, rounded up, so that at least what was asked is reserved. */
export function mbToCeilGb(mb: number): number {
  return Math.ceil(mb / 1024);
}

function record(total: number, reserved: number, allocationRatio: number): InventoryRecord {
  return { total, reserved, min_unit: 1, max_unit: total, step_size: 1, allocation_ratio: allocationRatio };
}

/**
 * The inventory to set, given what placement has now (for the ratios). A resource class whose total is 0 is left
 * out (placement refuses total 0), and so removed, as Nova's driver does.
 */
export function computeNodeInventory(totals: NodeTotals, options: InventoryOptions, current: Inventories): Inventories {
  const ratios = allocationRatios(options, current);
  const inventory: Inventories = {};
  if (totals.memory_mb > 0) inventory['MEMORY_MB'] = record(totals.memory_mb, options.reserved_host_memory_mb, ratios.MEMORY_MB);
  if (totals.vcpus > 0) inventory['VCPU'] = record(totals.vcpus, options.reserved_host_cpus, ratios.VCPU);
  if (totals.local_gb > 0) inventory['DISK_GB'] = record(totals.local_gb, mbToCeilGb(options.reserved_host_disk_mb), ratios.DISK_GB);
  return inventory;
}
