/**
 * The compute node as the placement reporter needs it: the resource provider is the node (uuid, name =
 * hypervisor_hostname), its VCPU / MEMORY_MB / DISK_GB totals and the node's allocation ratios. Plain data,
 * handed out by the ComputeNode keeper (conductor/compute-node-keeper.ts) after each save.
 */
/** A compute node's totals and what is used of them (the ComputeNode fields of those names). */
export interface NodeUsage {
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
}

export interface ComputeNodeSummary extends NodeUsage {
  /** The ComputeNode's uuid: the resource provider's uuid in placement. */
  uuid: string;
  /** The ComputeNode's database id (its id in `openstack hypervisor show`). */
  id: number;
  host: string;
  /** The node name: the resource provider's name. */
  hypervisor_hostname: string;
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
}
