/**
 * Facts about the hypervisor that @unraid/libvirt cannot ask for (it wraps no virConnectGetVersion, getType
 * or getCapabilities): libvirt's own answers to them, through Debian's virsh (libvirt-clients) on the same
 * URI. They are libvirt's, not guessed: `virsh version` prints virConnectGetType ("Using API: QEMU 9.0.0")
 * and virConnectGetVersion ("Running hypervisor: QEMU 7.2.0", what Nova's host.get_version() reports as
 * hypervisor_version), `virsh capabilities` the capabilities XML Nova's _get_cpu_info and
 * _get_instance_capabilities read. They change only when libvirt or QEMU is upgraded, which restarts
 * libvirtd (and should restart us): read once at start, as Nova caches its capabilities. About 50 ms each on
 * test:///default; on qemu:///system libvirtd answers from its probe cache (scripts/start-libvirtd sets up
 * /dev/kvm access so that cache holds).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseStringPromise } from 'xml2js';

const execFileAsync = promisify(execFile);

export interface HostCpu {
  arch: string;
  model: string | null;
  vendor: string | null;
  /** From <cpu><topology sockets cores threads>; libvirt's test driver gives none. */
  sockets: number | null;
  cores: number | null;
  threads: number | null;
  features: string[];
}

export interface CapabilitiesGuest {
  arch: string;
  /** <os_type>: hvm, exe, xen... */
  osType: string;
  /** <domain type>: kvm, qemu, test... */
  domainTypes: string[];
}

export interface HostCapabilities {
  cpu: HostCpu;
  /** NUMA cells in <topology><cells>: at least 1, as Nova's len(getattr(topology, 'cells', [1])). */
  cells: number;
  guests: CapabilitiesGuest[];
}

export interface HypervisorFacts {
  /** virConnectGetType: "QEMU" for qemu:// (kvm and qemu guests alike), "TEST" for test://. */
  type: string;
  /** virConnectGetVersion as an integer, major * 1,000,000 + minor * 1,000 + release (QEMU 7.2.0: 7002000). */
  version: number;
  capabilities: HostCapabilities;
}

export class HypervisorFactsError extends Error {
  override readonly name = 'HypervisorFactsError';
}

/** Asks libvirt at `uri` (virsh version, virsh capabilities). */
export async function readHypervisorFacts(uri: string, virsh = 'virsh'): Promise<HypervisorFacts> {
  const run = async (command: string): Promise<string> => {
    try {
      return (await execFileAsync(virsh, ['-q', '-c', uri, command], { timeout: 60_000, maxBuffer: 16 << 20, env: { ...process.env, LC_ALL: 'C' } })).stdout;
    } catch (error) {
      throw new HypervisorFactsError(`virsh -c ${uri} ${command} failed: ${(error as Error).message.trim()}`);
    }
  };
  const [version, capabilities] = await Promise.all([run('version'), run('capabilities')]);
  return { ...parseVirshVersion(version, uri), capabilities: await parseCapabilities(capabilities) };
}

/** `virsh version`'s "Using API: <type> <libvirt version>" and "Running hypervisor: <name> <x.y.z>". */
export function parseVirshVersion(text: string, uri = 'libvirt'): { type: string; version: number } {
  const api = /^Using API:\s+(\S+)/m.exec(text);
  const running = /^Running hypervisor:\s+\S+\s+(\d+)\.(\d+)(?:\.(\d+))?/m.exec(text);
  if (!api || !running) throw new HypervisorFactsError(`${uri}: cannot read the hypervisor type and version from virsh version: ${JSON.stringify(text)}`);
  const [major, minor, release = '0'] = running.slice(1);
  return { type: api[1]!, version: Number(major) * 1_000_000 + Number(minor) * 1_000 + Number(release) };
}

type Node = Record<string, unknown>;
const first = (node: unknown, key: string): Node | undefined => ((node as Node | undefined)?.[key] as Node[] | undefined)?.[0];
const all = (node: unknown, key: string): Node[] => ((node as Node | undefined)?.[key] as Node[] | undefined) ?? [];
const text = (node: unknown): string | null => {
  if (typeof node === 'string') return node.trim();
  const inner = (node as Node | undefined)?.['_'];
  return typeof inner === 'string' ? inner.trim() : null;
};
const attr = (node: unknown, name: string): string | undefined => ((node as Node | undefined)?.['$'] as Record<string, string> | undefined)?.[name];
const integer = (value: string | undefined): number | null => (value === undefined || !/^\d+$/.test(value) ? null : Number(value));

/** The parts of libvirt's capabilities XML Nova reads (nova/virt/libvirt/config.py LibvirtConfigCaps). */
export async function parseCapabilities(xml: string): Promise<HostCapabilities> {
  const root = ((await parseStringPromise(xml)) as Node)['capabilities'];
  const host = first(root, 'host');
  const cpu = first(host, 'cpu');
  const arch = text(all(cpu, 'arch')[0]);
  if (arch === null) throw new HypervisorFactsError('libvirt capabilities without <host><cpu><arch>');
  const topology = first(cpu, 'topology');
  // <feature name='x'/> on real hosts; the test driver writes <features><pae/>...</features> (Nova reads only the former).
  const features = all(cpu, 'feature').map((feature) => attr(feature, 'name')).filter((name): name is string => name !== undefined);
  const cells = all(first(first(host, 'topology'), 'cells'), 'cell').length;
  const guests = all(root, 'guest').map((guest) => {
    const archNode = first(guest, 'arch');
    return {
      arch: attr(archNode, 'name') ?? '',
      osType: text(all(guest, 'os_type')[0]) ?? '',
      domainTypes: all(archNode, 'domain').map((domain) => attr(domain, 'type')).filter((type): type is string => type !== undefined),
    };
  });
  return {
    cpu: {
      arch,
      model: text(all(cpu, 'model')[0]),
      vendor: text(all(cpu, 'vendor')[0]),
      sockets: integer(attr(topology, 'sockets')),
      cores: integer(attr(topology, 'cores')),
      threads: integer(attr(topology, 'threads')),
      features: [...new Set(features)],
    },
    cells: cells > 0 ? cells : 1,
    guests,
  };
}
