/** The options and host facts the guest planner reads, checked once when the daemon starts. */
import { ConfigError, type ConfigProblem } from '../config/config-error.js';
import type { NovaConfig } from '../config/schema.js';
import type { Architecture } from './arch.js';
import { defaultCachemode, parseDiskCachemodes, type DiskCachemode } from './cachemode.js';
import type { HostFacts } from './host-facts.js';
import { machineTypesByArch } from './platform.js';

/** The libvirt domain types nova-spawnd writes guests for. */
export type GuestVirtType = 'kvm' | 'qemu';

export interface VirtOptions {
  virt_type: GuestVirtType;
  instances_path: string;
  host_arch: Architecture;
  /** `[libvirt] hw_machine_type` by arch. */
  machine_types: ReadonlyMap<string, string>;
  disk_prefix: string | null;
  /** `[libvirt] disk_cachemodes` by disk source type ("file", "block", ...). */
  disk_cachemodes: ReadonlyMap<string, DiskCachemode>;
  /** The cache mode of a disk whose source type disk_cachemodes does not name. */
  default_cachemode: DiskCachemode;
}

/** Throws ConfigError naming every unusable option, so a bad option stops the daemon at start, not at the first spawn. */
export function readVirtOptions(config: Pick<NovaConfig, 'DEFAULT' | 'libvirt'>, host: HostFacts): VirtOptions {
  const { virt_type, hw_machine_type, disk_prefix, disk_cachemodes } = config.libvirt;
  const problems: ConfigProblem[] = [];
  if (virt_type !== 'kvm' && virt_type !== 'qemu') {
    problems.push({ section: 'libvirt', option: 'virt_type', value: virt_type, reason: 'nova-spawnd builds kvm and qemu guests only' });
  }
  const cachemodes = parseDiskCachemodes(disk_cachemodes);
  problems.push(...cachemodes.problems);
  if (problems.length > 0) throw new ConfigError(problems, 'invalid [libvirt] options');
  return {
    virt_type: virt_type as GuestVirtType,
    instances_path: config.DEFAULT.instances_path,
    host_arch: host.arch,
    machine_types: machineTypesByArch(hw_machine_type),
    disk_prefix,
    disk_cachemodes: cachemodes.cachemodes,
    default_cachemode: defaultCachemode(host.directIo),
  };
}
