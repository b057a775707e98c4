/**
 * The fields of the NovaObjects a compute service keeps, as their wire primitives (nova/objects/*.py): only
 * the ones this compute reads or writes are typed; any other field the conductor sends is kept as it came.
 */
import type { FieldMap, WireObject } from './wire-object.js';
import type { NodeUsage } from '../resources/compute-node-summary.js';

/** nova/objects/service.py Service 1.22. */
export interface ServiceFields extends FieldMap {
  id: number;
  uuid: string;
  host: string | null;
  binary: string | null;
  topic: string | null;
  report_count: number;
  disabled: boolean;
  disabled_reason: string | null;
  availability_zone: string | null;
  last_seen_up: string | null;
  forced_down: boolean;
  version: number;
  created_at: string | null;
  updated_at: string | null;
  deleted_at: string | null;
  deleted: boolean;
}

/** nova/objects/hv_spec.py HVSpec 1.2: one (arch, hypervisor type, vm mode) the node can run. */
export interface HVSpecFields extends FieldMap {
  arch: string;
  hv_type: string;
  vm_mode: string;
}

/** nova/objects/compute_node.py ComputeNode 1.19. */
export interface ComputeNodeFields extends FieldMap, NodeUsage {
  id: number;
  uuid: string;
  service_id: number | null;
  host: string | null;
  hypervisor_type: string;
  hypervisor_version: number;
  hypervisor_hostname: string | null;
  free_ram_mb: number | null;
  free_disk_gb: number | null;
  current_workload: number | null;
  running_vms: number | null;
  /** JSON text (the libvirt driver's _get_cpu_info, dumped). */
  cpu_info: string | null;
  disk_available_least: number | null;
  /** JSON text: the monitors' metrics (an empty list without monitors). */
  metrics: string | null;
  /** DictOfNullableStringsField: every value a string. */
  stats: Record<string, string | null> | null;
  host_ip: string | null;
  /** JSON text of a NUMATopology, or null when the driver reports none. */
  numa_topology: string | null;
  supported_hv_specs: WireObject<HVSpecFields>[];
  pci_device_pools: WireObject | null;
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  mapped: number;
}

/** nova/objects/instance_fault.py InstanceFault 1.2. */
export interface InstanceFaultFields extends FieldMap {
  id: number;
  instance_uuid: string;
  code: number;
  message: string | null;
  details: string | null;
  host: string | null;
}

/** nova/objects/instance_action.py InstanceActionEvent 1.4. */
export interface InstanceActionEventFields extends FieldMap {
  id: number;
  event: string;
  action_id: number | null;
  start_time: string | null;
  finish_time: string | null;
  result: string | null;
  traceback: string | null;
  details: string | null;
  host: string | null;
}

/** nova/objects/ec2.py EC2InstanceMapping 1.0: the integer id behind the instance's EC2 id (i-%08x). */
export interface EC2InstanceMappingFields extends FieldMap {
  id: number;
  uuid: string;
}

/**
 * nova/objects/instance.py Instance 2.7: the fields a compute saves during a build or delete. The rest
 * (flavor, info_cache, system_metadata, ...) travel as the cast brought them.
 */
export interface InstanceFields extends FieldMap {
  id: number;
  uuid: string;
  host: string | null;
  node: string | null;
  launched_on: string | null;
  vm_state: string | null;
  task_state: string | null;
  power_state: number | null;
  launched_at: string | null;
  terminated_at: string | null;
  root_device_name: string | null;
}
