import { childPath, expectInteger, Fields } from './json-fields.js';
import { optionalNovaObject, unwrapNovaObject } from './nova-object.js';

/**
 * meta_data.json `dedicated_cpus` as api/metadata/base.py _get_instance_dedicated_cpus derives it: the
 * sorted union of every InstanceNUMACell's pcpuset, i.e. the guest's vCPU numbers that are pinned (not
 * host CPU numbers). Cells older than 1.5 have no pcpuset: their dedicated CPUs are the cpuset of a cell
 * whose cpu_policy is "dedicated" (InstanceNUMACell.obj_make_compatible / InstanceNUMATopology
 * _migrate_legacy_dedicated_instance_cpuset). No topology (null or unset): none.
 */
export function dedicatedCpusFromPrimitive(instance: Fields): number[] {
  const topology = optionalNovaObject(instance, 'numa_topology', ['InstanceNUMATopology'], 1);
  if (!topology) return [];
  const cpus = new Set<number>();
  topology.data.list('cells').forEach((value, index) => {
    const cell = unwrapNovaObject(value, childPath(topology.data.at('cells'), index), ['InstanceNUMACell'], 1).data;
    for (const cpu of dedicatedCpusOfCell(cell)) cpus.add(cpu);
  });
  return [...cpus].sort((a, b) => a - b);
}

function dedicatedCpusOfCell(cell: Fields): number[] {
  if (cell.has('pcpuset')) return readCpuSet(cell, 'pcpuset');
  if (cell.nullableString('cpu_policy') === 'dedicated') return readCpuSet(cell, 'cpuset');
  return [];
}

/** SetOfIntegersField: a JSON list. */
function readCpuSet(cell: Fields, key: string): number[] {
  return cell.list(key).map((cpu, index) => expectInteger(cpu, childPath(cell.at(key), index)));
}
