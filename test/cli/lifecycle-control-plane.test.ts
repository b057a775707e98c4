/**
 * An instance's life after its build as Nova drives it (issue 14): `nova-spawnd run` as a compute service of the
 * real Nova 26 control plane of scripts/control-plane, on libvirt's test:///default, and the openstack CLI for
 * the operations under test (servers are created, and operations sent in a hurry, through nova-api's REST API).
 * test:///default lives in the daemon's process: its domains are seen through what the daemon reads from it,
 * - the line the driver logs after each power operation (the domain's state and the id of its run, a new one
 *   at every start),
 * - the power_state the daemon saved in Nova from libvirt's answer after the operation,
 * - the ComputeNode's running_vms: the domains of instances libvirt has, counted by the resource tracker,
 *   saved after every build and delete.
 * The tests:
 * - `server delete` while our service is up: terminate_instance reaches the daemon, the domain, the instance
 *   directory, the allocations and the metadata service's answer are gone;
 * - `server stop`, `start`, `reboot --soft`, `reboot --hard`: SHUTOFF / ACTIVE with power_state 4 / 1, the
 *   domain shut off, started, restarted (a new run id each time), each operation in the server's events;
 * - `console log show`: an empty log, then the tail of what the test wrote to console.log, with --lines;
 * - a delete accepted while the build downloads its image (a Glance proxy holds the download; the broker shows
 *   the terminate delivered behind the build): the build stops and the delete completes; a stop and a delete,
 *   and a soft and a hard reboot, sent while the daemon is paused (SIGSTOP) and so delivered together: gone,
 *   or ACTIVE after the hard reboot with the soft one preempted as in Nova; no domain, directory or allocation
 *   left of a deleted server, and no warning from the daemon about it.
 * The power-state sync and the running-deleted cleanup are off: nothing but the casts changes a domain here.
 * nova-api's requests are asked again when it answers HTTP 500 (a loaded 2-core machine); what the daemon does
 * is tolerated nothing: every event finished, no warning.
 */
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { consoleLogPath, instanceDir } from '../../src/virt/instance-paths.js';
import { eventually, queueCounts } from '../bus/helpers/rabbit.js';
import { ComputeHost, novaDb, remove } from '../control-plane/compute-host.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, getJson, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { isAbout } from '../helpers/log-lines.js';

const execFileAsync = promisify(execFile);
const SUFFIX = randomBytes(4).toString('hex');
const HOST = `compute-life-${SUFFIX}`;
/** The daemon's metadata API, asked as Neutron's metadata proxy asks it (X-Instance-ID, signed). */
const METADATA_PORT = 20_000 + Math.floor(Math.random() * 20_000);
const PROXY_SECRET = `secret-${SUFFIX}`;

let plane: ControlPlane;
let dir: string;
let host: ComputeHost;
/** The flavor of every server here (deleted at the end). */
let flavorId: string;
let glance: GlanceGate;
/** The server of the stop/start/reboot test, which the console test reads too. */
let powered: string | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
/** Tests declared, and those that got to their end: the daemon's log is kept when one did not. */
let tests = 0;
let passed = 0;

function lifecycleTest(name: string, body: () => Promise<void>, timeoutMs: number): void {
  tests++;
  test(name, async () => {
    await body();
    passed++;
  }, timeoutMs);
}

/**
 * The daemon's Glance: a proxy to the control plane's that holds the download of an image (GET
 * /v2/images/{id}/file) until released, so that a build waits there with its instance on our host.
 */
class GlanceGate {
  private readonly held = new Map<string, { requested: () => void; released: Promise<void> }>();
  private constructor(private readonly server: HttpServer) {}

  static async start(upstream: string): Promise<GlanceGate> {
    const target = new URL(upstream);
    const server = createHttpServer();
    const gate = new GlanceGate(server);
    server.on('request', (incoming, outgoing) => {
      const image = /^\/v2\/images\/([^/]+)\/file$/.exec(incoming.url ?? '')?.[1];
      const hold = image === undefined ? undefined : gate.held.get(image);
      hold?.requested();
      void (hold?.released ?? Promise.resolve()).then(() => {
        const forward = httpRequest({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host } }, (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        });
        forward.on('error', (error) => outgoing.destroy(error));
        incoming.pipe(forward);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return gate;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Holds `image`'s downloads: `requested` once the daemon asks for it, `release()` lets them go on. */
  hold(image: string): { requested: Promise<void>; release: () => void } {
    let requested!: () => void;
    let release!: () => void;
    const asked = new Promise<void>((resolve) => (requested = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.held.set(image, { requested, released });
    return { requested: asked, release };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

beforeAll(async () => {
  plane = await startControlPlane();
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-lifecycle-cp-'));
  glance = await GlanceGate.start(plane.glance_url);
  const config = join(dir, 'nova.conf');
  writeFileSync(
    config,
    computeHostConfig(plane, HOST, dir, {
      DEFAULT: {
        enabled_apis: 'osapi_compute,metadata',
        metadata_listen: '127.0.0.1',
        metadata_listen_port: String(METADATA_PORT),
        sync_power_state_interval: '-1',
        running_deleted_instance_poll_interval: '-1',
        // The ComputeNode is saved after every build and delete, and every 5 s.
        update_resources_interval: '5',
      },
      neutron: { service_metadata_proxy: 'true', metadata_proxy_shared_secret: PROXY_SECRET },
      glance: { api_servers: glance.url },
    }),
  );
  host = new ComputeHost(plane, HOST, config);
  await host.start();
  await host.waitUntilListed();
  const created = (await openstack(plane, 'compute', ['flavor', 'create', '--ram', '64', '--vcpus', '1', '--disk', '1', `life-${SUFFIX}`])) as { id: string };
  flavorId = created.id;
  cleanups.push(() => remove(plane, `${plane.compute_url}/flavors/${created.id}`));
}, CONTROL_PLANE_START_MS);

afterAll(async () => {
  try {
    if (host) await host.retire();
  } finally {
    if (passed < tests) {
      const kept = join(os.tmpdir(), `nova-spawnd-lifecycle-cp-${SUFFIX}.log`);
      writeFileSync(kept, host?.stderr ?? '');
      console.warn(`the daemon's log is kept in ${kept}`);
    }
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await glance?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

/**
 * Debian's openstack CLI against nova-api, as an admin of noauth2: what it printed. Asked again when nova-api
 * failed on its database (HTTP 500 OperationalError, its change rolled back).
 */
async function cli(...args: string[]): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { stdout } = await execFileAsync('/usr/bin/openstack', ['--os-auth-type', 'admin_token', '--os-endpoint', plane.compute_url, '--os-token', plane.token, ...args], {
        timeout: 60_000,
        env: { ...process.env, OS_CLOUD: '' },
      });
      return stdout;
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '');
      if (attempt >= 5 || !(stderr.includes('OperationalError') && stderr.includes('HTTP 500'))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** `read()`'s answer, asked again while it fails (a loaded control plane answers 500 now and then). */
function retried<T>(what: string, read: () => Promise<T>): Promise<T> {
  return eventually(what, read, 15_000, 500);
}

type ServerView = Record<string, unknown> & { status: string };

/** A request to nova-api as an admin of noauth2 (microversion 2.74: a server's host); its JSON answer, if any. */
async function nova(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${plane.compute_url}${path}`, {
    method,
    headers: { 'X-Auth-Token': plane.token, 'Content-Type': 'application/json', 'OpenStack-API-Version': 'compute 2.74' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

/** POST /servers on our host (what `server create --host` does, without the CLI's seconds): its id, for retire(). */
async function createServer(label: string, image = plane.image_id): Promise<string> {
  const { server } = (await nova('POST', '/servers', { server: { name: `${label}-${SUFFIX}`, imageRef: image, flavorRef: flavorId, networks: 'none', host: HOST } })) as { server: { id: string } };
  host.servers.push(server.id);
  return server.id;
}

/** GET /servers/{id}: the server, or null once nova-api answers 404. */
async function show(id: string): Promise<ServerView | null> {
  return retried(`server ${id}`, async () => {
    const response = await fetch(`${plane.compute_url}/servers/${id}`, { headers: { 'X-Auth-Token': plane.token } });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`GET /servers/${id}: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { server: ServerView }).server;
  });
}

/** The server once it has `status` and no task state. */
async function reaches(id: string, status: string): Promise<ServerView> {
  return eventually(`server ${id} ${status}`, async () => {
    const server = await show(id);
    if (server?.status === 'ERROR') throw new Error(`server ${id} ERROR: ${JSON.stringify(server['fault'])}`);
    return server?.status === status && server['OS-EXT-STS:task_state'] === null ? server : undefined;
  }, 60_000, 500);
}

async function gone(id: string): Promise<void> {
  await eventually(`server ${id} gone`, async () => ((await show(id)) === null ? true : undefined), 60_000, 500);
}

/** A new server on our host, ACTIVE, and served by the daemon's metadata service. */
async function activeServer(label: string): Promise<{ id: string; project: string }> {
  const id = await createServer(label);
  const server = await reaches(id, 'ACTIVE');
  const project = String(server['tenant_id']);
  expect(await metadataStatus(id, project)).toBe(200);
  return { id, project };
}

/** nova-api deletes a server itself when its host's service is down: ours must be up for the delete to be ours. */
async function expectServiceUp(): Promise<void> {
  const { services } = await retried('our service', async () =>
    (await getJson(`${plane.compute_url}/os-services?host=${HOST}&binary=nova-compute`, plane)) as { services: { state: string }[] },
  );
  expect(services.map((service) => service.state)).toEqual(['up']);
}

/** What the resource tracker last saved: the domains of instances libvirt has on our host. */
async function runningVms(): Promise<number> {
  const rows = await retried('the compute node', () => novaDb(plane, 'select running_vms from compute_nodes where host = %s and deleted = 0', HOST));
  expect(rows).toHaveLength(1);
  return rows[0]![0] as number;
}

/**
 * libvirt holds a domain for each of our servers that exists, and for no other: the ComputeNode's running_vms
 * (counted from libvirt's domains) comes to the number of our servers nova-api still shows.
 */
async function expectDomainsOfLiveServers(): Promise<void> {
  let live = -1;
  let counted = -1;
  try {
    await eventually('running_vms = our servers', async () => {
      live = (await Promise.all(host.servers.map((id) => show(id)))).filter((server) => server !== null).length;
      counted = await runningVms();
      return counted === live ? true : undefined;
    }, 30_000, 1_000);
  } finally {
    expect({ running_vms: counted }).toEqual({ running_vms: live });
  }
}

async function allocations(id: string): Promise<Record<string, unknown>> {
  return retried(`the allocations of ${id}`, async () => ((await getJson(`${plane.placement_url}/allocations/${id}`, plane, { 'OpenStack-API-Version': 'placement 1.28' })) as { allocations: Record<string, unknown> }).allocations);
}

/** The daemon's metadata service, asked for the instance as Neutron's proxy asks. */
async function metadataStatus(id: string, project: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${METADATA_PORT}/openstack/latest/meta_data.json`, {
    headers: { 'X-Instance-ID': id, 'X-Tenant-ID': project, 'X-Instance-ID-Signature': createHmac('sha256', PROXY_SECRET).update(id).digest('hex') },
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * The daemon's warnings and errors about the instance, but for those the test causes or the machine's
 * control plane does: the metadata service's error for a deleted instance asked for above (as Nova's).
 */
function troubles(id: string): string[] {
  return logOf(id).filter((line) => / (ERROR|WARNING) /.test(line) && !/ nova_spawnd\.metadata_api /.test(line));
}

/** The daemon's log lines about the instance. */
function logOf(id: string): string[] {
  return host.stderr.split('\n').filter((line) => isAbout(line, id));
}

/** The driver's "after <operation> the domain is <state>" lines about the instance: what libvirt said. */
function domainAfter(id: string): { operation: string; state: string; domainId: string }[] {
  return logOf(id).flatMap((line) => {
    const found = / after (.+) the domain is \S+ .*\bstate=(\S+) domain_id=(\S+)/.exec(line);
    return found ? [{ operation: found[1]!, state: found[2]!, domainId: found[3]! }] : [];
  });
}

type Action = { action: string; events: { event: string; result: string | null }[] };

/** The server's instance actions, oldest first, each with its events, once every event is finished. */
async function actions(id: string): Promise<Action[]> {
  return eventually(`the events of ${id} finished`, async () => {
    const seen = await actionsOnce(id);
    // An action nova-api recorded whose cast the daemon has not taken yet has no event at all: with two casts
    // in flight, the server may be ACTIVE again before the second one starts.
    return seen.some((action) => action.events.length === 0 || action.events.some((event) => event.result === null)) ? undefined : seen;
  }, 30_000, 1_000);
}

async function actionsOnce(id: string): Promise<Action[]> {
  const { instanceActions } = (await getJson(`${plane.compute_url}/servers/${id}/os-instance-actions`, plane)) as { instanceActions: { action: string; request_id: string }[] };
  // nova-api lists them newest first (created_at, then id, descending): start_time alone ties on MariaDB,
  // whose DATETIME keeps whole seconds.
  const sorted = [...instanceActions].reverse();
  return Promise.all(
    sorted.map(async ({ action, request_id }) => {
      const { instanceAction } = (await getJson(`${plane.compute_url}/servers/${id}/os-instance-actions/${request_id}`, plane)) as { instanceAction: { events: { event: string; result: string | null }[] } };
      return { action, events: instanceAction.events.map(({ event, result }) => ({ event, result })) };
    }),
  );
}

/** Nothing left of a deleted server: in Nova, in placement, on our host, in the metadata service. */
async function expectNoTrace(id: string, project: string): Promise<void> {
  expect(await show(id)).toBeNull();
  expect(await allocations(id)).toEqual({});
  expect(existsSync(instanceDir(join(dir, 'instances'), id))).toBe(false);
  expect(await metadataStatus(id, project)).toBe(404);
  await expectDomainsOfLiveServers();
  expect(troubles(id)).toEqual([]);
}

/** The compute.<host> queue's messages delivered to the daemon and not yet acked. */
async function unacked(): Promise<number> {
  return (await queueCounts(plane.vhost)).get(`compute.${HOST}`)?.unacked ?? 0;
}

/**
 * Pauses the daemon once it has acked everything, sends what `send` sends, sees both casts delivered to it,
 * and resumes it: they arrive together. `send` asks nova-api directly, not through the CLI's seconds, so that
 * the service stays up meanwhile.
 */
async function together(send: () => Promise<void>): Promise<void> {
  await eventually('the daemon idle', async () => ((await unacked()) === 0 ? true : undefined), 30_000, 500);
  await expectServiceUp();
  host.pause();
  try {
    await send();
    await eventually('both casts delivered to the paused daemon', async () => ((await unacked()) === 2 ? true : undefined), 15_000, 500);
  } finally {
    host.resume();
  }
}

lifecycleTest('server delete while our service is up: terminate_instance destroys the domain, the files, the allocations', async () => {
  const { id, project } = await activeServer('delete');
  // What the delete must take away is there: its domain counted, its directory, its allocation.
  await expectDomainsOfLiveServers();
  expect(await runningVms()).toBeGreaterThan(0);
  expect(existsSync(instanceDir(join(dir, 'instances'), id))).toBe(true);
  expect(Object.keys(await allocations(id))).toHaveLength(1);

  await expectServiceUp();
  await cli('server', 'delete', id);
  await gone(id);
  const log = logOf(id);
  expect(log.some((line) => / INFO nova_spawnd\.compute \[.*\] \[instance: \S+\] terminate( |$)/.test(line))).toBe(true);
  expect(log.some((line) => line.includes('Instance destroyed successfully.') && line.includes('domain=instance-'))).toBe(true);
  expect(log.some((line) => line.includes('instance deleted'))).toBe(true);
  await expectNoTrace(id, project);
}, 120_000);

lifecycleTest('server stop, start, reboot --soft and --hard: SHUTOFF and ACTIVE with the domain shut off, started, restarted', async () => {
  const { id } = await activeServer('power');
  powered = id;

  await cli('server', 'stop', id);
  expect(await reaches(id, 'SHUTOFF')).toMatchObject({ 'OS-EXT-STS:vm_state': 'stopped', 'OS-EXT-STS:power_state': 4 });
  expect(domainAfter(id)).toEqual([{ operation: 'power_off', state: 'shutoff', domainId: 'none' }]);

  await cli('server', 'start', id);
  expect(await reaches(id, 'ACTIVE')).toMatchObject({ 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1 });
  const started = domainAfter(id).at(-1)!;
  expect(started).toEqual({ operation: 'power_on', state: 'running', domainId: expect.stringMatching(/^\d+$/) });

  await cli('server', 'reboot', '--soft', id);
  expect(await reaches(id, 'ACTIVE')).toMatchObject({ 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1 });
  const soft = domainAfter(id).at(-1)!;
  expect(soft).toEqual({ operation: 'soft reboot', state: 'running', domainId: expect.stringMatching(/^\d+$/) });
  // test:///default's guest obeys the ACPI shutdown at once: shut down and started again, a new run.
  expect(soft.domainId).not.toBe(started.domainId);
  expect(logOf(id).some((line) => line.includes('Instance soft rebooted successfully.'))).toBe(true);

  await cli('server', 'reboot', '--hard', id);
  expect(await reaches(id, 'ACTIVE')).toMatchObject({ 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1 });
  const hard = domainAfter(id).at(-1)!;
  expect(hard).toEqual({ operation: 'hard reboot', state: 'running', domainId: expect.stringMatching(/^\d+$/) });
  expect(hard.domainId).not.toBe(soft.domainId);
  // One libvirt operation per request.
  expect(domainAfter(id).map((after) => after.operation)).toEqual(['power_off', 'power_on', 'soft reboot', 'hard reboot']);

  expect(await actions(id)).toEqual([
    { action: 'create', events: [{ event: 'compute__do_build_and_run_instance', result: 'Success' }] },
    { action: 'stop', events: [{ event: 'compute_stop_instance', result: 'Success' }] },
    { action: 'start', events: [{ event: 'compute_start_instance', result: 'Success' }] },
    { action: 'reboot', events: [{ event: 'compute_reboot_instance', result: 'Success' }] },
    { action: 'reboot', events: [{ event: 'compute_reboot_instance', result: 'Success' }] },
  ]);
}, 150_000);

lifecycleTest('console log show: the console log, its last lines with --lines', async () => {
  if (!powered) throw new Error('no server: the stop/start/reboot test failed');
  const id = powered;
  // test:///default writes no console: an empty answer, not an error.
  expect(await cli('console', 'log', 'show', id)).toBe('');
  const lines = Array.from({ length: 50 }, (_, i) => `[ ${i.toFixed(6)}] line ${i} of ${SUFFIX}`);
  writeFileSync(consoleLogPath(join(dir, 'instances'), id), `${lines.join('\n')}\n`);
  expect(await cli('console', 'log', 'show', id)).toBe(`${lines.join('\n')}\n`);
  // Without a newline at its end: Nova's _tail_log splits on \n, and the empty string after a last newline
  // would be one of the lines asked for. The CLI ends what it prints with a newline.
  writeFileSync(consoleLogPath(join(dir, 'instances'), id), lines.join('\n'));
  expect(await cli('console', 'log', 'show', '--lines', '3', id)).toBe(`${lines.slice(-3).join('\n')}\n`);
  expect(logOf(id).some((line) => line.includes('console-output done: acking'))).toBe(true);
}, 60_000);

lifecycleTest('a delete accepted while the build downloads its image: the build stops, the delete completes, nothing left', async () => {
  // An image of its own, so that the download is not in the cache yet and waits at the gate.
  const file = join(dir, 'slow.qcow2');
  await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '16M']);
  const image = (await openstack(plane, 'image', ['image', 'create', '--disk-format', 'qcow2', '--container-format', 'bare', '--file', file, `slow-${SUFFIX}`])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.glance_url}/v2/images/${image.id}`));
  const download = glance.hold(image.id);

  const id = await createServer('building', image.id);
  await download.requested;
  // The build has claimed the instance for our host and is spawning it.
  const building = (await show(id))!;
  expect(building).toMatchObject({ 'OS-EXT-SRV-ATTR:host': HOST, 'OS-EXT-STS:vm_state': 'building', 'OS-EXT-STS:task_state': 'spawning' });
  const project = String(building['tenant_id']);

  await expectServiceUp();
  await cli('server', 'delete', id);
  expect((await show(id))?.['OS-EXT-STS:task_state']).toBe('deleting');
  // terminate_instance has reached the daemon, which holds it behind the build: both unacked.
  await eventually('the build and the terminate delivered', async () => ((await unacked()) === 2 ? true : undefined), 30_000, 500);
  download.release();

  await gone(id);
  const log = logOf(id);
  const stopped = log.findIndex((line) => line.includes('build stopped: the instance was deleted'));
  const terminated = log.findIndex((line) => line.includes('instance deleted'));
  expect({ stopped: stopped >= 0, terminated: terminated >= 0 }).toEqual({ stopped: true, terminated: true });
  expect(stopped).toBeLessThan(terminated);
  await expectNoTrace(id, project);
}, 120_000);

lifecycleTest('a stop and a delete arriving together: the stop gives way, the server is gone, nothing left', async () => {
  const { id, project } = await activeServer('stop-delete');
  await together(async () => {
    await nova('POST', `/servers/${id}/action`, { 'os-stop': null });
    await nova('DELETE', `/servers/${id}`);
  });
  await gone(id);
  const log = logOf(id);
  // The stop ran first and found the instance being deleted (UnexpectedDeletingTaskStateError): stopped quietly.
  expect(log.some((line) => /stop stopped: the instance was deleted/.test(line))).toBe(true);
  expect(log.some((line) => line.includes('instance deleted'))).toBe(true);
  await expectNoTrace(id, project);
}, 120_000);

lifecycleTest('a soft and a hard reboot arriving together: the soft one is preempted, the hard one restarts the domain', async () => {
  const { id } = await activeServer('reboots');
  await together(async () => {
    await nova('POST', `/servers/${id}/action`, { reboot: { type: 'SOFT' } });
    await nova('POST', `/servers/${id}/action`, { reboot: { type: 'HARD' } });
  });
  expect(await reaches(id, 'ACTIVE')).toMatchObject({ 'OS-EXT-STS:vm_state': 'active', 'OS-EXT-STS:power_state': 1 });
  // Nova's manager: the soft reboot's save expects a soft reboot's task state and finds rebooting_hard; the
  // failure is recorded (its event Error, a fault), the hard reboot goes on.
  expect((await actions(id)).map((action) => action.events)).toEqual([
    [{ event: 'compute__do_build_and_run_instance', result: 'Success' }],
    [{ event: 'compute_reboot_instance', result: 'Error' }],
    [{ event: 'compute_reboot_instance', result: 'Success' }],
  ]);
  expect(domainAfter(id)).toEqual([{ operation: 'hard reboot', state: 'running', domainId: expect.stringMatching(/^\d+$/) }]);
}, 120_000);
