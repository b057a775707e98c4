/**
 * Our compute service against the real Nova 26 control plane of scripts/control-plane: it registers through
 * nova-conductor and nova-api lists it up; with its heartbeat stopped it goes down within the control
 * plane's service_down_time (20 s there); started again it is up under the same service id. Its ComputeNode
 * shows in `openstack hypervisor show` with what libvirt's test:///default reports, and follows the Nova
 * instances defined on that connection. A conductor that cannot be reached (a vhost that does not exist, or
 * an exchange no conductor reads) gives retries in the log, no crash.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RpcClient } from '../../src/bus/rpc-client.js';
import { parseTransportUrl } from '../../src/bus/transport-url.js';
import { ComputeNodeKeeper } from '../../src/conductor/compute-node-keeper.js';
import { ConductorApi, type RpcCaller } from '../../src/conductor/conductor-api.js';
import { ServiceReporter } from '../../src/conductor/service-reporter.js';
import { getLogger, type Logger } from '../../src/log.js';
import { PrometheusMetrics } from '../../src/metrics/prometheus.js';
import { HostResourceReader } from '../../src/resources/host-resources.js';
import { LibvirtConnection } from '../../src/virt/connection.js';
import { NOVA_NS } from '../../src/virt/domain-xml.js';
import { CONTROL_PLANE_START_MS, getJson, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';

const execFileAsync = promisify(execFile);

const HOST = `compute-test-${randomBytes(4).toString('hex')}`;
/** The control plane's nova.conf [DEFAULT] service_down_time. */
const SERVICE_DOWN_TIME_S = 20;
const RATIOS = { cpu_allocation_ratio: null, initial_cpu_allocation_ratio: 16, ram_allocation_ratio: null, initial_ram_allocation_ratio: 1.5, disk_allocation_ratio: null, initial_disk_allocation_ratio: 1 };
const RESERVED = { reserved_host_cpus: 0, reserved_host_memory_mb: 512, reserved_host_disk_mb: 0 };

let plane: ControlPlane;
const clients: RpcClient[] = [];
let conductor: ConductorApi;
let libvirt: LibvirtConnection;
let instancesPath: string;
const registeredHosts = new Set<string>();

function rpcClient(transportUrl: string, name: string, options: { controlExchange?: string; responseTimeoutMs?: number; log?: Logger } = {}): RpcClient {
  const client = new RpcClient({
    broker: { brokers: parseTransportUrl(transportUrl), tls: null, heartbeatSeconds: 60 },
    name,
    controlExchange: options.controlExchange ?? 'nova',
    queueMode: { quorum: false, durable: false, autoDelete: false },
    responseTimeoutMs: options.responseTimeoutMs ?? 30_000,
    reconnect: { initialMs: 200, maxMs: 1000, jitter: 0.2 },
    log: options.log ?? getLogger('test.compute-service.rpc'),
  });
  clients.push(client);
  client.start();
  return client;
}

/** A Logger that keeps its lines (and prints nothing). */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: (message) => void lines.push(`DEBUG ${message}`),
    info: (message) => void lines.push(`INFO ${message}`),
    warning: (message) => void lines.push(`WARNING ${message}`),
    error: (message) => void lines.push(`ERROR ${message}`),
    child: () => logger,
  };
  return logger;
}

interface ListedService {
  ID: string;
  Binary: string;
  Host: string;
  Status: string;
  State: string;
}

async function ourService(host: string): Promise<ListedService | undefined> {
  const services = (await openstack(plane, 'compute', ['--os-compute-api-version', '2.53', 'compute', 'service', 'list', '--host', host])) as ListedService[];
  return services.find((service) => service.Binary === 'nova-compute' && service.Host === host);
}

/** Polls until `check` holds; resolves with the seconds it took. */
async function within(what: string, seconds: number, check: () => Promise<boolean>): Promise<number> {
  const began = Date.now();
  while (Date.now() - began < seconds * 1000) {
    if (await check()) return (Date.now() - began) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what}: not within ${seconds} s`);
}

function reporter(host: string, log: Logger = getLogger('test.service-reporter'), api: ConductorApi = conductor, metrics?: PrometheusMetrics): ServiceReporter {
  registeredHosts.add(host);
  return new ServiceReporter({ conductor: api, host, reportIntervalS: 2, enableNewServices: true, log, retry: { initialMs: 200, maxMs: 1000, jitter: 0.2 }, ...(metrics ? { metrics } : {}) });
}

beforeAll(async () => {
  plane = await startControlPlane();
  const client = rpcClient(plane.transport_url, `nova-spawnd-compute-test-${process.pid}`);
  await client.ready();
  conductor = new ConductorApi(client);
  libvirt = new LibvirtConnection('test:///default');
  instancesPath = await mkdtemp(join(tmpdir(), 'nova-spawnd-instances-'));
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  for (const host of registeredHosts) await deleteService(host).catch((error: unknown) => console.warn(`could not delete the service of ${host}: ${(error as Error).message}`));
  await Promise.all(clients.map((client) => client.close()));
  await libvirt?.close();
  if (instancesPath) await rm(instancesPath, { recursive: true, force: true });
}, 120_000);

/**
 * `openstack compute service delete`: Nova's API deletes the service, its compute nodes and their resource
 * providers. Nova 26 answers 500 (ValueError: No such provider) for a node that has no resource provider in
 * placement, as ours have none until the placement reporter runs: the provider is made here first.
 */
async function deleteService(host: string): Promise<void> {
  const service = await ourService(host);
  if (!service) return;
  const nodes = (await getJson(`${plane.compute_url}/os-hypervisors/detail`, plane, { 'OpenStack-API-Version': 'compute 2.87' })) as { hypervisors: { id: string; service: { host: string }; hypervisor_hostname: string }[] };
  for (const node of nodes.hypervisors.filter((candidate) => candidate.service.host === host)) {
    const response = await fetch(`${plane.placement_url}/resource_providers`, {
      method: 'POST',
      headers: { 'X-Auth-Token': plane.token, 'OpenStack-API-Version': 'placement 1.20', 'Content-Type': 'application/json' },
      body: JSON.stringify({ uuid: node.id, name: node.hypervisor_hostname }),
    });
    if (!response.ok && response.status !== 409) throw new Error(`POST /resource_providers: HTTP ${response.status} ${await response.text()}`);
  }
  await execFileAsync('/usr/bin/openstack', ['--os-auth-type', 'admin_token', '--os-endpoint', plane.compute_url, '--os-token', plane.token, '--os-compute-api-version', '2.53', 'compute', 'service', 'delete', service.ID], { timeout: 60_000 });
  if (await ourService(host)) throw new Error(`the service of ${host} is still listed after its delete`);
}

/** GET /os-services?host= (what the CLI lists, in 60 ms instead of its 3 s start-up): for timing the state. */
async function serviceState(host: string): Promise<string | undefined> {
  const body = (await getJson(`${plane.compute_url}/os-services?host=${encodeURIComponent(host)}&binary=nova-compute`, plane, { 'OpenStack-API-Version': 'compute 2.53' })) as { services: { state: string }[] };
  return body.services[0]?.state;
}

describe('the service record and its heartbeat', () => {
  let first: ServiceReporter;
  let serviceId: string;

  test('registers: openstack compute service list shows nova-compute on our host up and enabled', async () => {
    first = reporter(HOST);
    const began = Date.now();
    first.start();
    // The health check's probe, as the conductor has not answered yet, and once it has.
    expect(() => first.checkConductor()).toThrow('not registered yet');
    const record = await first.registered();
    const registeredMs = Date.now() - began;
    expect(() => first.checkConductor()).not.toThrow();
    expect(record.get('host')).toBe(HOST);
    expect(record.get('binary')).toBe('nova-compute');
    expect(record.get('topic')).toBe('compute');
    expect(record.get('version')).toBe(64);
    expect(typeof record.get('id')).toBe('number');
    const upAfter = await within('service up', 30, async () => (await ourService(HOST))?.State === 'up');
    const listed = (await ourService(HOST))!;
    expect(listed).toMatchObject({ Binary: 'nova-compute', Host: HOST, Status: 'enabled', State: 'up' });
    serviceId = listed.ID;
    expect(serviceId).toBe(record.get('uuid'));
    console.log(`registered in ${registeredMs} ms; listed up ${upAfter.toFixed(1)} s later`);
  }, 60_000);

  test('heartbeats change report_count: the record saved every report_interval', async () => {
    const before = first.service!.get('report_count')!;
    await within('two heartbeats', 15, async () => first.reportCount >= 2 && first.service!.get('report_count')! >= before + 2);
    expect(first.service!.get('updated_at')).toEqual(expect.any(String));
  }, 30_000);

  test('stopped, it goes down within service_down_time; started again, it is up with the same service id', async () => {
    await first.stop();
    const downAfter = await within('service down', SERVICE_DOWN_TIME_S + 15, async () => (await serviceState(HOST)) === 'down');
    expect((await ourService(HOST))!.State).toBe('down');
    // Down service_down_time after the last heartbeat, which came at most report_interval (2 s) before the stop
    // (polled every 0.5 s; 2 s of slack for the poll, a loaded machine and the clock's rounding).
    expect(downAfter).toBeGreaterThanOrEqual(SERVICE_DOWN_TIME_S - 2 - 1);
    expect(downAfter).toBeLessThanOrEqual(SERVICE_DOWN_TIME_S + 2);
    const second = reporter(HOST);
    second.start();
    const record = await second.registered();
    const upAfter = await within('service up again', 30, async () => (await ourService(HOST))?.State === 'up');
    expect(record.get('uuid')).toBe(serviceId);
    expect((await ourService(HOST))!.ID).toBe(serviceId);
    console.log(`down ${downAfter.toFixed(1)} s after the stop (service_down_time ${SERVICE_DOWN_TIME_S} s); up again ${upAfter.toFixed(1)} s after the restart`);
    await second.stop();
  }, 90_000);

  test('enable_new_services = false registers the new service disabled, with Nova\'s reason', async () => {
    const host = `${HOST}-disabled`;
    registeredHosts.add(host);
    const disabled = new ServiceReporter({ conductor, host, reportIntervalS: 2, enableNewServices: false, log: getLogger('test.service-reporter') });
    disabled.start();
    const record = await disabled.registered();
    await disabled.stop();
    expect(record.get('disabled')).toBe(true);
    expect(record.get('disabled_reason')).toBe('New compute service disabled due to config option.');
    expect(await ourService(host)).toMatchObject({ Status: 'disabled' });
  }, 60_000);
});

describe('a conductor that cannot be reached', () => {
  test('a vhost that does not exist: registration is retried and logged, nothing crashes, stop() ends it', async () => {
    const lines: string[] = [];
    const log = recordingLogger(lines);
    const url = plane.transport_url.replace(/\/[^/]*$/, `/no-such-vhost-${randomBytes(3).toString('hex')}`);
    const unreachable = new ConductorApi(rpcClient(url, `nova-spawnd-unreachable-${process.pid}`, { log, responseTimeoutMs: 1000 }));
    const service = reporter(`${HOST}-unreachable`, log, unreachable);
    service.start();
    await within('three retries in the log', 20, async () => lines.filter((line) => line.includes('could not register')).length >= 3);
    await service.stop();
    expect(service.service).toBeNull();
    expect(lines.find((line) => line.includes('could not register'))).toMatch(/^WARNING could not register the nova-compute service through nova-conductor, retrying in \d+ ms: .*ConnectionLost/);
  }, 60_000);

  test('no conductor reads the calls (stopped): MessagingTimeout, retried and logged', async () => {
    const lines: string[] = [];
    const log = recordingLogger(lines);
    const noConductor = new ConductorApi(rpcClient(plane.transport_url, `nova-spawnd-no-conductor-${process.pid}`, { controlExchange: `nobody-${process.pid}`, responseTimeoutMs: 1000, log }));
    const service = reporter(`${HOST}-no-conductor`, log, noConductor);
    service.start();
    await within('two retries in the log', 30, async () => lines.filter((line) => line.includes('could not register')).length >= 2);
    expect(() => service.checkConductor()).toThrow(/^registration failed: .*(MessagingTimeout|ConnectionLost)/);
    await service.stop();
    expect(lines.filter((line) => line.includes('could not register')).every((line) => line.includes('MessagingTimeout') || line.includes('ConnectionLost'))).toBe(true);
    expect(lines.some((line) => line.includes('MessagingTimeout'))).toBe(true);
  }, 60_000);
});

describe('a conductor lost while the service runs', () => {
  test('heartbeats that time out are logged once and retried; the next that works logs the recovery, and the service stays up', async () => {
    const lines: string[] = [];
    const log = recordingLogger(lines);
    const client = rpcClient(plane.transport_url, `nova-spawnd-heartbeat-loss-${process.pid}`, { responseTimeoutMs: 1000 });
    await client.ready();
    // The conductor "stops": calls go to a topic nobody reads, on the real broker, and time out.
    let conductorStopped = false;
    const caller: RpcCaller = { call: (target, context, method, args) => client.call(conductorStopped ? { ...target, topic: `conductor-stopped-${process.pid}` } : target, context, method, args) };
    const host = `${HOST}-loss`;
    const metrics = new PrometheusMetrics({ version: '0', controlPlane: true });
    const conductorUp = async () => (await metrics.exposition()).body.match(/^nova_spawnd_conductor_up (\d)$/m)?.[1];
    const service = reporter(host, log, new ConductorApi(caller), metrics);
    service.start();
    await service.registered();
    await within('a first heartbeat', 15, async () => service.reportCount >= 1);
    expect(await conductorUp()).toBe('1');
    conductorStopped = true;
    await within('three heartbeats lost', 20, async () => (service.service!.get('report_count') ?? 0) >= service.reportCount + 3);
    expect(() => service.checkConductor()).toThrow(/^the last heartbeat failed: .*MessagingTimeout/);
    expect(await conductorUp()).toBe('0');
    const saved = service.reportCount;
    conductorStopped = false;
    await within('the recovery', 15, async () => service.reportCount > saved);
    expect(() => service.checkConductor()).not.toThrow();
    expect(await conductorUp()).toBe('1');
    await service.stop();
    expect(lines.filter((line) => line.startsWith('WARNING Lost connection to nova-conductor for reporting service status: ') && line.includes('MessagingTimeout'))).toHaveLength(1);
    expect(lines.filter((line) => line === 'INFO Recovered from being unable to report status.')).toHaveLength(1);
    expect(await serviceState(host)).toBe('up');
  }, 60_000);
});

interface ShownHypervisor {
  [field: string]: unknown;
}

/**
 * What `openstack hypervisor show` shows, without its uptime: GET /os-hypervisors/{id} at 2.87, the last
 * microversion with the node's vcpus, memory and disk (2.88 dropped them). The CLI also asks for the uptime,
 * which nova-api gets from the compute itself (RPC get_host_uptime to compute.<host>): with no daemon
 * answering that queue here, the CLI would wait out rpc_response_timeout.
 */
async function showHypervisor(uuid: string): Promise<ShownHypervisor> {
  const body = (await getJson(`${plane.compute_url}/os-hypervisors/${uuid}`, plane, { 'OpenStack-API-Version': 'compute 2.87' })) as { hypervisor: ShownHypervisor };
  return body.hypervisor;
}

/** nova-api finds a node by its host's cell mapping, which the scheduler makes within 2 s of the node's creation here. */
async function hypervisorListed(uuid: string): Promise<number> {
  return within('the node mapped and shown', 30, () => showHypervisor(uuid).then(() => true, () => false));
}

function novaDomainXml(name: string, uuid: string, vcpus: number, memoryMb: number, diskGb: number): string {
  return `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid>
  <metadata><nova:instance xmlns:nova='${NOVA_NS}'><nova:name>${name}</nova:name>
    <nova:flavor name='m1.test'><nova:memory>${memoryMb}</nova:memory><nova:disk>${diskGb}</nova:disk><nova:swap>0</nova:swap><nova:ephemeral>0</nova:ephemeral><nova:vcpus>${vcpus}</nova:vcpus></nova:flavor>
    <nova:owner><nova:user uuid='u1'>u</nova:user><nova:project uuid='p1'>p</nova:project></nova:owner></nova:instance></metadata>
  <memory unit='MiB'>${memoryMb}</memory><vcpu>${vcpus}</vcpu><os><type>hvm</type></os></domain>`;
}

describe('the compute node', () => {
  const host = `${HOST}-node`;
  let service: ServiceReporter;
  let keeper: ComputeNodeKeeper;

  beforeAll(async () => {
    service = reporter(host);
    service.start();
    await service.registered();
    const reader = new HostResourceReader(libvirt, { my_ip: '192.0.2.7', instances_path: instancesPath, ...RESERVED }, { hypervisorHostname: host });
    keeper = new ComputeNodeKeeper({ conductor, host, readResources: () => reader.read(), ratios: RATIOS, updateResourcesIntervalS: -1, log: getLogger('test.compute-node') });
  }, 60_000);

  afterAll(async () => {
    await keeper?.stop();
    await service?.stop();
  });

  test('created from libvirt\'s facts: openstack hypervisor show has test:///default\'s CPUs and memory', async () => {
    const began = Date.now();
    const node = await keeper.update();
    const createdMs = Date.now() - began;
    const info = await libvirt.nodeInfo();
    expect(node).toMatchObject({ host, hypervisor_hostname: host, vcpus: info.cpus, memory_mb: Math.floor(info.memory / 1024), cpu_allocation_ratio: 16, ram_allocation_ratio: 1.5, disk_allocation_ratio: 1 });
    expect(node.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const mappedAfter = await hypervisorListed(node.uuid);
    const shown = await showHypervisor(node.uuid);
    expect(shown).toMatchObject({
      hypervisor_hostname: host,
      hypervisor_type: 'TEST',
      hypervisor_version: 2,
      host_ip: '192.0.2.7',
      vcpus: info.cpus,
      memory_mb: Math.floor(info.memory / 1024),
      memory_mb_used: RESERVED.reserved_host_memory_mb,
      vcpus_used: 0,
      running_vms: 0,
      state: 'up',
      status: 'enabled',
    });
    expect(shown['local_gb']).toBe(node.local_gb);
    // 2.28 and later show cpu_info as the JSON object it holds.
    expect(shown['cpu_info']).toEqual({ arch: 'i686', model: null, vendor: null, topology: { cells: 2, sockets: null, cores: null, threads: null }, features: [] });
    console.log(`ComputeNode read and created in ${createdMs} ms; shown by nova-api ${mappedAfter.toFixed(1)} s later (host mapping)`);
  }, 60_000);

  test('the same resources again: nothing saved; a Nova instance defined on the connection: its vCPUs, memory and flavor disk counted', async () => {
    const unchanged = await keeper.update();
    expect(keeper.computeNode!.whatChanged()).toEqual([]);
    const name = `instance-${randomBytes(4).toString('hex')}`;
    const uuid = '5a1f2d6c-0b7e-4f1a-9c3d-' + randomBytes(6).toString('hex');
    // The daemon's own connection: test:///default's domains live in the connection that defined them.
    await libvirt.define(novaDomainXml(name, uuid, 2, 256, 1));
    try {
      const began = Date.now();
      const node = await keeper.update();
      const savedMs = Date.now() - began;
      expect(node).toMatchObject({ vcpus_used: unchanged.vcpus_used + 2, memory_mb_used: unchanged.memory_mb_used + 256, local_gb_used: unchanged.local_gb_used + 1 });
      const shown = await showHypervisor(node.uuid);
      expect(shown).toMatchObject({ vcpus_used: 2, memory_mb_used: RESERVED.reserved_host_memory_mb + 256, local_gb_used: 1, running_vms: 1, free_ram_mb: node.memory_mb - node.memory_mb_used });
      console.log(`usage update saved in ${savedMs} ms`);
    } finally {
      await libvirt.undefine(name);
    }
    const after = await keeper.update();
    expect(after).toMatchObject({ vcpus_used: unchanged.vcpus_used, memory_mb_used: unchanged.memory_mb_used, local_gb_used: unchanged.local_gb_used });
  }, 60_000);

  test('update_resources_interval: the periodic update picks up a domain defined meanwhile, with no call', async () => {
    const reader = new HostResourceReader(libvirt, { my_ip: '192.0.2.7', instances_path: instancesPath, ...RESERVED }, { hypervisorHostname: host });
    const updates: number[] = [];
    const periodic = new ComputeNodeKeeper({ conductor, host, readResources: () => reader.read(), ratios: RATIOS, updateResourcesIntervalS: 1, log: getLogger('test.compute-node'), onUpdate: (node) => void updates.push(node.vcpus_used) });
    periodic.start();
    const before = await periodic.ready();
    const name = `instance-${randomBytes(4).toString('hex')}`;
    await libvirt.define(novaDomainXml(name, '6b2e3f7d-1c8f-4a2b-8d4e-' + randomBytes(6).toString('hex'), 3, 128, 0));
    try {
      await within('the periodic update', 10, async () => periodic.node!.vcpus_used === before.vcpus_used + 3);
    } finally {
      await libvirt.undefine(name);
    }
    await within('the periodic update after the undefine', 10, async () => periodic.node!.vcpus_used === before.vcpus_used);
    await periodic.stop();
    expect(updates.length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  test('a restarted keeper finds the node (get_by_host_and_nodename) instead of creating another', async () => {
    const reader = new HostResourceReader(libvirt, { my_ip: '192.0.2.7', instances_path: instancesPath, ...RESERVED }, { hypervisorHostname: host });
    const again = new ComputeNodeKeeper({ conductor, host, readResources: () => reader.read(), ratios: { ...RATIOS, cpu_allocation_ratio: 4 }, updateResourcesIntervalS: -1, log: getLogger('test.compute-node') });
    const node = await again.update();
    expect(node.uuid).toBe(keeper.node!.uuid);
    expect(node.id).toBe(keeper.node!.id);
    // A configured ratio replaces the node's; unset ones keep what the node has.
    expect(node).toMatchObject({ cpu_allocation_ratio: 4, ram_allocation_ratio: 1.5 });
    const nodes = (await openstack(plane, 'compute', ['--os-compute-api-version', '2.87', 'hypervisor', 'list'])) as { 'Hypervisor Hostname': string }[];
    expect(nodes.filter((listed) => listed['Hypervisor Hostname'] === host)).toHaveLength(1);
  }, 60_000);
});
