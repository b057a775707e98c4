/**
 * The host's resources as Nova would report them: libvirt's own facts (test:///default through the binding
 * and virsh), the instances_path file system, the Nova instances' flavors, and the growth room of real qcow2
 * files made by qemu-img. Pure functions tested as tables; the reader against real libvirt.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cpuInfo, diskGrowthRoom, domainUsage, hostResources, HostResourceReader, supportedInstances, type HostView } from '../../src/resources/host-resources.js';
import { LibvirtConnection } from '../../src/virt/connection.js';
import { NOVA_NS } from '../../src/virt/domain-xml.js';
import { parseCapabilities, parseVirshVersion, readHypervisorFacts } from '../../src/virt/host-capabilities.js';

const execFileAsync = promisify(execFile);
const GiB = 1024 ** 3;

let dir: string;
let libvirt: LibvirtConnection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nova-spawnd-host-resources-'));
  libvirt = new LibvirtConnection('test:///default');
});

afterAll(async () => {
  await libvirt.close();
  await rm(dir, { recursive: true, force: true });
});

/** A KVM host's capabilities as libvirt 9 on an x86_64 machine writes them (abridged). */
const KVM_CAPABILITIES = `<capabilities>
  <host><uuid>x</uuid>
    <cpu><arch>x86_64</arch><model>EPYC-Rome</model><vendor>AMD</vendor><microcode version='1'/>
      <topology sockets='1' dies='1' cores='2' threads='1'/>
      <feature name='x2apic'/><feature name='hypervisor'/><feature name='x2apic'/>
    </cpu>
    <topology><cells num='1'><cell id='0'><memory unit='KiB'>4000000</memory></cell></cells></topology>
  </host>
  <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/><domain type='kvm'/></arch></guest>
  <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
</capabilities>`;

test('virsh version: libvirt\'s getType and getVersion as Nova\'s integer', () => {
  expect(parseVirshVersion('Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0\n')).toEqual({ type: 'QEMU', version: 7002000 });
  expect(parseVirshVersion('Using API: TEST 9.0.0\nRunning hypervisor: TEST 0.0.2\n')).toEqual({ type: 'TEST', version: 2 });
  expect(() => parseVirshVersion('nothing')).toThrow(/cannot read the hypervisor type and version/);
});

test('capabilities: cpu_info and supported_hv_specs shaped as Nova\'s _get_cpu_info and _get_instance_capabilities', async () => {
  const caps = await parseCapabilities(KVM_CAPABILITIES);
  expect(JSON.parse(cpuInfo(caps))).toEqual({
    arch: 'x86_64', model: 'EPYC-Rome', vendor: 'AMD', topology: { cells: 1, sockets: 1, cores: 2, threads: 1 }, features: ['x2apic', 'hypervisor'],
  });
  expect(supportedInstances(caps)).toEqual([
    { arch: 'i686', hv_type: 'qemu', vm_mode: 'hvm' }, { arch: 'i686', hv_type: 'kvm', vm_mode: 'hvm' },
    { arch: 'x86_64', hv_type: 'qemu', vm_mode: 'hvm' }, { arch: 'x86_64', hv_type: 'kvm', vm_mode: 'hvm' },
  ]);
});

test('test:///default through virsh: TEST 0.0.2, i686, two NUMA cells, (i686, test, hvm|xen)', async () => {
  const facts = await readHypervisorFacts('test:///default');
  expect(facts).toMatchObject({ type: 'TEST', version: 2 });
  expect(facts.capabilities.cells).toBe(2);
  expect(supportedInstances(facts.capabilities)).toEqual([{ arch: 'i686', hv_type: 'test', vm_mode: 'hvm' }, { arch: 'i686', hv_type: 'test', vm_mode: 'xen' }]);
});

function view(domains: HostView['domains']): HostView {
  return {
    cpus: 8, memoryKiB: 16 * 1024 * 1024, hostname: 'node1',
    hypervisor: { type: 'QEMU', version: 7002000, capabilities: { cpu: { arch: 'x86_64', model: null, vendor: null, sockets: null, cores: null, threads: null, features: [] }, cells: 1, guests: [] } },
    disk: { totalBytes: 100.5 * GiB, freeBytes: 60.7 * GiB },
    domains,
  };
}

test('usage: reserved amounts plus the Nova instances\' flavors; other domains count only toward disk_available_least', () => {
  const options = { my_ip: '192.0.2.1', instances_path: '/x', reserved_host_cpus: 1, reserved_host_memory_mb: 512, reserved_host_disk_mb: 1536 };
  const resources = hostResources(view([
    { uuid: 'a', running: true, instance: { vcpus: 2, memory_mb: 2048, disk_gb: 10 + 512 / 1024, project_id: 'p1' }, overcommitBytes: 3 * GiB },
    { uuid: 'b', running: false, instance: { vcpus: 1, memory_mb: 512, disk_gb: 1, project_id: 'p1' }, overcommitBytes: 0 },
    { uuid: 'c', running: true, instance: null, overcommitBytes: 2 * GiB },
  ]), options);
  expect(resources).toMatchObject({
    vcpus: 8, memory_mb: 16384, local_gb: 100,
    vcpus_used: 1 + 2 + 1, memory_mb_used: 512 + 2048 + 512, local_gb_used: 13, // 1.5 + 10.5 + 1 = 13
    free_ram_mb: 16384 - 3072, free_disk_gb: 87,
    disk_available_least: 60 - 5, // floor(free) - growth room of every domain's disks
    running_vms: 2, current_workload: 0, host_ip: '192.0.2.1', hypervisor_hostname: 'node1', numa_topology: null,
    stats: { num_instances: '2', num_vm_active: '1', num_vm_stopped: '1', num_task_None: '2', num_proj_p1: '2', io_workload: '0' },
  });
});

test('a domain\'s usage: the flavor of its Nova metadata; a qcow2 disk\'s growth room from its header and allocation', async () => {
  const disk = join(dir, 'disk');
  await execFileAsync('qemu-img', ['create', '-f', 'qcow2', disk, '2G']);
  const room = await diskGrowthRoom(disk);
  expect(room).toBeGreaterThan(2 * GiB - 1024 * 1024);
  expect(room).toBeLessThan(2 * GiB);
  expect(await diskGrowthRoom(join(dir, 'missing'))).toBe(0);
  const xml = `<domain type='qemu'><name>i1</name><metadata><nova:instance xmlns:nova='${NOVA_NS}'>
    <nova:flavor name='f'><nova:memory>1024</nova:memory><nova:disk>5</nova:disk><nova:swap>512</nova:swap><nova:ephemeral>2</nova:ephemeral><nova:vcpus>2</nova:vcpus></nova:flavor>
    <nova:owner><nova:user uuid='u'>u</nova:user><nova:project uuid='p9'>p</nova:project></nova:owner></nova:instance></metadata>
    <devices><disk type='file' device='disk'><source file='${disk}'/></disk><disk type='file' device='cdrom'><source file='/nonexistent.iso'/></disk></devices></domain>`;
  const usage = await domainUsage({ name: 'i1', uuid: 'u1', state: 'shutoff', vcpus: 2, maxMemoryKiB: 1024 * 1024, xml });
  expect(usage).toEqual({ uuid: 'u1', running: false, instance: { vcpus: 2, memory_mb: 1024, disk_gb: 7.5, project_id: 'p9' }, overcommitBytes: room });
  const foreign = await domainUsage({ name: 't', uuid: 'u2', state: 'running', vcpus: 2, maxMemoryKiB: 8 << 20, xml: '<domain type="test"><name>t</name></domain>' });
  expect(foreign.instance).toBeNull();
});

test('the reader on test:///default: libvirt\'s CPUs and memory, instances_path\'s disk, a Nova domain defined on the same connection', async () => {
  const options = { my_ip: '192.0.2.9', instances_path: dir, reserved_host_cpus: 0, reserved_host_memory_mb: 0, reserved_host_disk_mb: 0 };
  const reader = new HostResourceReader(libvirt, options, { hypervisorHostname: 'node-x' });
  const began = Date.now();
  const before = await reader.read();
  const firstMs = Date.now() - began;
  const fs = await statfs(dir);
  const info = await libvirt.nodeInfo();
  expect(before).toMatchObject({ vcpus: info.cpus, memory_mb: Math.floor(info.memory / 1024), local_gb: Math.floor((fs.blocks * fs.bsize) / GiB), hypervisor_type: 'TEST', hypervisor_hostname: 'node-x', host_ip: '192.0.2.9' });
  const name = `instance-${randomBytes(3).toString('hex')}`;
  await libvirt.define(`<domain type='test'><name>${name}</name><metadata><nova:instance xmlns:nova='${NOVA_NS}'><nova:flavor name='f'><nova:memory>300</nova:memory><nova:disk>3</nova:disk><nova:swap>0</nova:swap><nova:ephemeral>0</nova:ephemeral><nova:vcpus>3</nova:vcpus></nova:flavor></nova:instance></metadata><memory unit='MiB'>300</memory><vcpu>3</vcpu><os><type>hvm</type></os></domain>`);
  try {
    const again = Date.now();
    const after = await reader.read();
    const cachedMs = Date.now() - again;
    expect(after).toMatchObject({ vcpus_used: before.vcpus_used + 3, memory_mb_used: before.memory_mb_used + 300, local_gb_used: before.local_gb_used + 3, running_vms: before.running_vms + 1 });
    console.log(`host resources read in ${firstMs} ms (with virsh), ${cachedMs} ms after (libvirt and statfs only)`);
  } finally {
    await libvirt.undefine(name);
  }
});
