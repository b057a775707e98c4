/**
 * What this host offers and what its instances use, in the ComputeNode's fields, as Nova's libvirt driver
 * (get_available_resource) and resource tracker (_update_usage_from_instances) together would report them:
 * - vcpus and memory_mb: libvirt's virNodeGetInfo (all host CPUs; memory KiB / 1024), as Nova's
 *   _get_vcpu_available without cpu_dedicated_set / cpu_shared_set and host.get_memory_mb_total.
 * - local_gb: the file system of instances_path (statfs): total // GiB, as Nova's _get_local_gb_info.
 * - *_used: the reserved_host_* options plus, for every domain that is a Nova instance (it carries Nova's
 *   <nova:instance> metadata: ours and Nova's own both write it), running or only defined: its vCPUs and
 *   <memory> from libvirt, and its disk from the flavor in that metadata (root + ephemeral + swap / 1024 GiB).
 *   The flavor, not the disk files, because that is what Nova's resource tracker counts and what placement
 *   allocated: a qcow2 overlay's size on disk says how much was written so far, not how much the instance
 *   may grow to; the files' real sizes go into disk_available_least instead. Domains that are not Nova
 *   instances (libvirt's test:///default has one, "test") are left out, as Nova's tracker leaves out what is
 *   not in its database; the reserved_host_* options are where an operator accounts for such guests.
 * - disk_available_least: free GiB of instances_path minus what the file-backed disks of every domain may
 *   still grow (virtual size - allocated size), as Nova's _get_disk_over_committed_size_total.
 * - hypervisor_type / hypervisor_version / cpu_info / supported_hv_specs: libvirt's own answers
 *   (virt/host-capabilities.ts), shaped as Nova's driver shapes them.
 * - numa_topology: null. Nova accepts it (its fake driver reports None, and the ComputeNode field is
 *   nullable; the scheduler's NUMATopologyFilter then passes only instances without a NUMA topology).
 */
import { statfs, stat, open } from 'node:fs/promises';
import { parseStringPromise } from 'xml2js';
import { canonicalizeArchitecture } from '../virt/arch.js';
import type { DomainResources, LibvirtConnection } from '../virt/connection.js';
import { readHypervisorFacts, type HostCapabilities, type HypervisorFacts } from '../virt/host-capabilities.js';
import type { NodeUsage } from './compute-node-summary.js';

const GiB = 1024 ** 3;

/** The options the resource view reads, under Nova's [DEFAULT] names. */
export interface HostResourceOptions {
  my_ip: string;
  instances_path: string;
  reserved_host_cpus: number;
  reserved_host_memory_mb: number;
  reserved_host_disk_mb: number;
}

export interface HVSpec {
  arch: string;
  hv_type: string;
  vm_mode: string;
}

/** The ComputeNode fields the host's resources give (everything but host, uuid, ids and the ratios). */
export interface HostResources extends NodeUsage {
  free_ram_mb: number;
  free_disk_gb: number;
  disk_available_least: number;
  hypervisor_type: string;
  hypervisor_version: number;
  hypervisor_hostname: string;
  cpu_info: string;
  supported_hv_specs: HVSpec[];
  host_ip: string;
  running_vms: number;
  current_workload: number;
  stats: Record<string, string>;
  numa_topology: null;
}

/** One domain as the tracker counts it. */
export interface DomainUsage {
  uuid: string;
  running: boolean;
  /** Null unless the domain is a Nova instance (carries <nova:instance>). */
  instance: { vcpus: number; memory_mb: number; disk_gb: number; project_id: string | null } | null;
  /** Bytes its file-backed disks may still grow: virtual size - allocated size. */
  overcommitBytes: number;
}

export interface HostView {
  cpus: number;
  memoryKiB: number;
  hypervisor: HypervisorFacts;
  hostname: string;
  disk: { totalBytes: number; freeBytes: number };
  domains: DomainUsage[];
}

/** Nova's Architecture/HVType/VMMode.canonicalize, for the (arch, hv_type, vm_mode) triplets. */
export function supportedInstances(capabilities: HostCapabilities): HVSpec[] {
  const specs: HVSpec[] = [];
  for (const guest of capabilities.guests) {
    const arch = canonicalizeArchitecture(guest.arch);
    // Nova skips an architecture it does not know (InvalidArchitectureName).
    if (arch === null) continue;
    let vmMode = guest.osType.toLowerCase();
    if (vmMode === 'pv') vmMode = 'xen';
    else if (vmMode === 'hv' || vmMode === 'baremetal') vmMode = 'hvm';
    for (const domainType of guest.domainTypes) {
      let hvType = domainType.toLowerCase();
      if (hvType === 'xapi') hvType = 'xen';
      if (!specs.some((spec) => spec.arch === arch && spec.hv_type === hvType && spec.vm_mode === vmMode)) specs.push({ arch, hv_type: hvType, vm_mode: vmMode });
    }
  }
  return specs;
}

/**
 * nova/virt/libvirt/driver.py _get_cpu_info, dumped as jsonutils.dumps does (the features set as a list):
 * {"arch", "model", "vendor", "topology": {"cells", "sockets", "cores", "threads"}, "features"}.
 */
export function cpuInfo(capabilities: HostCapabilities): string {
  const { cpu } = capabilities;
  return JSON.stringify({
    arch: cpu.arch,
    model: cpu.model,
    vendor: cpu.vendor,
    topology: { cells: capabilities.cells, sockets: cpu.sockets, cores: cpu.cores, threads: cpu.threads },
    features: cpu.features,
  });
}

/** The ComputeNode's resource fields from the host's view (pure). */
export function hostResources(view: HostView, options: HostResourceOptions): HostResources {
  const memoryMb = Math.floor(view.memoryKiB / 1024);
  const localGb = Math.floor(view.disk.totalBytes / GiB);
  const instances = view.domains.filter((domain) => domain.instance !== null);
  let vcpusUsed = options.reserved_host_cpus;
  let memoryUsed = options.reserved_host_memory_mb;
  let diskUsed = options.reserved_host_disk_mb / 1024;
  const stats: Record<string, number> = { num_instances: 0, io_workload: 0 };
  const count = (key: string): void => void (stats[key] = (stats[key] ?? 0) + 1);
  for (const domain of instances) {
    const usage = domain.instance!;
    vcpusUsed += usage.vcpus;
    memoryUsed += usage.memory_mb;
    diskUsed += usage.disk_gb;
    count('num_instances');
    // Nova's Stats: per vm_state, task_state (none: the instance rests) and project.
    count(domain.running ? 'num_vm_active' : 'num_vm_stopped');
    count('num_task_None');
    if (usage.project_id !== null) count(`num_proj_${usage.project_id}`);
  }
  // IntegerField coerces with int(): toward zero.
  const localGbUsed = Math.trunc(diskUsed);
  const overcommit = view.domains.reduce((sum, domain) => sum + domain.overcommitBytes, 0);
  const freeGb = Math.floor(view.disk.freeBytes / GiB);
  return {
    vcpus: view.cpus,
    memory_mb: memoryMb,
    local_gb: localGb,
    vcpus_used: vcpusUsed,
    memory_mb_used: memoryUsed,
    local_gb_used: localGbUsed,
    free_ram_mb: memoryMb - memoryUsed,
    free_disk_gb: localGb - localGbUsed,
    disk_available_least: Math.trunc((freeGb * GiB - overcommit) / GiB),
    hypervisor_type: view.hypervisor.type,
    hypervisor_version: view.hypervisor.version,
    hypervisor_hostname: view.hostname,
    cpu_info: cpuInfo(view.hypervisor.capabilities),
    supported_hv_specs: supportedInstances(view.hypervisor.capabilities),
    host_ip: options.my_ip,
    running_vms: instances.length,
    current_workload: 0,
    stats: Object.fromEntries(Object.entries(stats).map(([key, value]) => [key, String(value)])),
    numa_topology: null,
  };
}

type XmlNode = Record<string, unknown>;
const first = (node: unknown, key: string): XmlNode | undefined => ((node as XmlNode | undefined)?.[key] as XmlNode[] | undefined)?.[0];
const all = (node: unknown, key: string): XmlNode[] => ((node as XmlNode | undefined)?.[key] as XmlNode[] | undefined) ?? [];
const attr = (node: unknown, name: string): string | undefined => ((node as XmlNode | undefined)?.['$'] as Record<string, string> | undefined)?.[name];
const text = (node: unknown): string | undefined => (typeof node === 'string' ? node : typeof (node as XmlNode | undefined)?.['_'] === 'string' ? ((node as XmlNode)['_'] as string) : undefined);
const number = (node: unknown): number => {
  const value = Number(text(node)?.trim());
  return Number.isFinite(value) && value >= 0 ? value : 0;
};

/** A domain's usage: its flavor from Nova's metadata, and its file-backed disks' growth room. */
export async function domainUsage(domain: DomainResources): Promise<DomainUsage> {
  const root = ((await parseStringPromise(domain.xml)) as XmlNode)['domain'];
  const novaInstance = first(first(root, 'metadata'), 'nova:instance');
  let instance: DomainUsage['instance'] = null;
  if (novaInstance !== undefined) {
    const flavor = first(novaInstance, 'nova:flavor');
    const projectId = attr(first(first(novaInstance, 'nova:owner'), 'nova:project'), 'uuid') ?? null;
    instance = {
      vcpus: domain.vcpus,
      memory_mb: Math.floor(domain.maxMemoryKiB / 1024),
      disk_gb: number(all(flavor, 'nova:disk')[0]) + number(all(flavor, 'nova:ephemeral')[0]) + number(all(flavor, 'nova:swap')[0]) / 1024,
      project_id: projectId,
    };
  }
  let overcommitBytes = 0;
  for (const disk of all(first(root, 'devices'), 'disk')) {
    if (attr(disk, 'type') !== 'file' || attr(disk, 'device') !== 'disk') continue;
    const file = attr(first(disk, 'source'), 'file');
    if (file !== undefined) overcommitBytes += await diskGrowthRoom(file);
  }
  return { uuid: domain.uuid, running: domain.state === 'running', instance, overcommitBytes };
}

/**
 * virtual size - allocated size of a disk file, as Nova's _get_instance_disk_info: a qcow2's virtual size
 * from its header (bytes 24-31, big-endian), a raw file's from its length. 0 for a file that is missing
 * (libvirt's test driver does not need disk files to exist).
 */
export async function diskGrowthRoom(path: string): Promise<number> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return 0;
  }
  try {
    const info = await stat(path);
    const header = Buffer.alloc(32);
    const { bytesRead } = await handle.read(header, 0, 32, 0);
    const qcow2 = bytesRead >= 32 && header.readUInt32BE(0) === 0x514649fb;
    const virtualSize = qcow2 ? Number(header.readBigUInt64BE(24)) : info.size;
    return Math.max(0, virtualSize - info.blocks * 512);
  } finally {
    await handle.close();
  }
}

/**
 * Reads the host's view through the daemon's libvirt connection (the domains must be read on the very
 * connection that defines them: test:///default's state lives in one connection) and statfs.
 */
export class HostResourceReader {
  private hypervisor: Promise<HypervisorFacts> | null = null;

  constructor(
    private readonly connection: LibvirtConnection,
    private readonly options: HostResourceOptions,
    private readonly overrides: {
      /** Instead of libvirt's hostname (two daemons on one machine are two nodes). */
      hypervisorHostname?: string;
      virsh?: string;
    } = {},
  ) {}

  async read(): Promise<HostResources> {
    this.hypervisor ??= readHypervisorFacts(this.connection.uri, this.overrides.virsh).catch((error: unknown) => {
      this.hypervisor = null;
      throw error;
    });
    const [node, hypervisor, hostname, fs, domains] = await Promise.all([
      this.connection.nodeInfo(),
      this.hypervisor,
      this.overrides.hypervisorHostname ?? this.connection.hostname(),
      statfs(this.options.instances_path),
      this.connection.listDomains(),
    ]);
    return hostResources(
      {
        cpus: node.cpus,
        memoryKiB: node.memory,
        hypervisor,
        hostname,
        disk: { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize },
        domains: await Promise.all(domains.map(domainUsage)),
      },
      this.options,
    );
  }
}
