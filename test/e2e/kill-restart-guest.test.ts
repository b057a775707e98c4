/**
 * kill -9 of `nova-spawnd run` at the worst moments of a real guest's life on qemu:///system, then a restart,
 * through Nova's control plane (scripts/control-plane): the cast the daemon was working on is not acked, so
 * the broker gives it to the restarted daemon, which must finish it as Nova expects with nothing leaked.
 *
 * The daemon is stopped at an exact point of its work without any hook in it: its libvirt connection goes
 * through LibvirtTap (qemu+unix:///system?socket=..., a proxy to libvirtd's socket), and the tap SIGKILLs the
 * daemon when the daemon's call of the trapped procedure arrives, before libvirtd sees it:
 * - a build killed between defining its domain and starting it (the domain defined, never started);
 * - a terminate killed between destroying the domain and undefining it (the guest stopped, its domain,
 *   directory and allocation still there).
 * The second works on the server the first built: one guest at a time on this machine (the placement
 * provider of a qemu:///system host is named by the machine's hostname). The cleanup retires the host and
 * removes the domain whatever happened. KILL_RESTART_LOG=<file> keeps the log of every run of the daemon.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceDir } from '../../src/virt/instance-paths.js';
import { DaemonProcess } from '../bus/helpers/daemon-process.js';
import { eventually, queueCounts } from '../bus/helpers/rabbit.js';
import { settled, type ComputeHost } from '../control-plane/compute-host.js';
import type { ControlPlane } from '../control-plane/control-plane.js';
import { createGuestFlavor, deleteServer, domainState, endGuestHost, fetchServer, GUEST_HOST_START_MS, leftovers, newGuestHost, shellInitCmdline, uploadGuest, type GuestHost } from './guest-server.js';
import { LibvirtTap, PROC } from './libvirt-tap.js';
import { isAbout } from '../helpers/log-lines.js';

const SUFFIX = randomBytes(4).toString('hex');
const HOST = `compute-kill-${SUFFIX}`;
const HOST_QUEUE = `compute.${HOST}`;

let fixture: GuestHost | undefined;
let plane: ControlPlane;
let host: ComputeHost;
let instancesPath: string;
let tap: LibvirtTap | undefined;
let daemon: DaemonProcess | null = null;
/** The daemon's log across its runs. */
let logs = '';

/** Starts `nova-spawnd run` and waits until it is registered with the control plane. */
async function startDaemon(): Promise<void> {
  daemon = DaemonProcess.start(fixture!.config);
  await daemon.waitForLog(/registered with the control plane/, 60_000);
}

/** Ends the daemon (SIGTERM, SIGKILL after 30 s) and keeps its log. */
async function stopDaemon(): Promise<void> {
  if (daemon === null) return;
  const running = daemon;
  daemon = null;
  if (running.running) {
    running.signal('SIGTERM');
    const timer = setTimeout(() => running.signal('SIGKILL'), 30_000);
    await running.exited;
    clearTimeout(timer);
  }
  logs += running.log;
}

/**
 * Makes the tap SIGKILL the daemon at its next call of one of `procedures`, runs `action`, and waits (up to
 * two minutes) for the daemon to be gone. Its log is kept.
 */
async function killAt(procedures: readonly number[], action: () => Promise<void>): Promise<void> {
  const victim = daemon!;
  let caught: number | null = null;
  tap!.arm(procedures, (procedure) => {
    caught = procedure;
    victim.signal('SIGKILL');
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await action();
    const exit = await Promise.race([
      victim.exited,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the daemon never called procedure ${procedures.join(' or ')}`)), 120_000))),
    ]);
    daemon = null;
    logs += victim.log;
    expect({ caught, exit }).toEqual({ caught: expect.any(Number), exit: { code: null, signal: 'SIGKILL' } });
  } finally {
    clearTimeout(timer);
    tap!.disarm();
  }
}

/** The compute host's queue as the broker holds it once the killed daemon's connection is closed. */
function hostQueue(): Promise<{ ready: number; unacked: number; consumers: number }> {
  return eventually(`${HOST_QUEUE} without a consumer`, async () => {
    const counts = (await queueCounts(plane.vhost)).get(HOST_QUEUE);
    return counts !== undefined && counts.consumers === 0 ? counts : undefined;
  }, 30_000, 250);
}

/** Waits for the host's queue to hold no message, ready or unacked: the daemon acks a cast once its work is done. */
function queueDrained(): Promise<true> {
  return eventually(`${HOST_QUEUE} drained`, async () => {
    const counts = (await queueCounts(plane.vhost)).get(HOST_QUEUE);
    return counts !== undefined && counts.ready === 0 && counts.unacked === 0 ? true : undefined;
  }, 30_000, 250);
}

/** Whether the daemon run got a message about the instance that the broker flagged as redelivered. */
function redelivered(run: DaemonProcess, id: string): boolean {
  return run.log.split('\n').some((line) => line.includes('message received') && isAbout(line, id) && line.includes('redelivered=true'));
}

beforeAll(async () => {
  // Its libvirt through the tap; DEBUG: the consumer logs whether the broker flagged a delivery redelivered.
  const socket = join(tmpdir(), `nova-spawnd-libvirt-${SUFFIX}.sock`);
  fixture = await newGuestHost(HOST, 'kill-restart-', { DEFAULT: { debug: 'true' }, libvirt: { connection_uri: LibvirtTap.uriOf(socket) } });
  ({ plane, host } = fixture);
  instancesPath = join(fixture.dir, 'instances');
  tap = await LibvirtTap.listen(socket);
  await startDaemon();
  await host.waitUntilListed();
}, GUEST_HOST_START_MS);

afterAll(async () => {
  try {
    await stopDaemon();
    await endGuestHost(fixture);
  } finally {
    await tap?.close();
    if (logs && process.env['KILL_RESTART_LOG']) writeFileSync(process.env['KILL_RESTART_LOG'], logs);
  }
}, 180_000);

let id: string;

test('a build killed between defining its domain and starting it: after a restart the redelivered build finishes, ACTIVE', async () => {
  // A guest that stays up: the terminate below has a running domain to destroy.
  const { guest, dir, cleanups } = fixture!;
  const { image } = await uploadGuest(plane, guest, shellInitCmdline(guest, 'echo kill-restart-guest up; exec /bin/busybox sleep 100000'), { dir, suffix: SUFFIX, cleanups });
  const flavor = await createGuestFlavor(plane, SUFFIX, cleanups);

  await killAt([PROC.DOMAIN_CREATE, PROC.DOMAIN_CREATE_WITH_FLAGS], async () => {
    id = await host.createServer(`kill-${SUFFIX}`, ['--image', image, '--flavor', flavor]);
  });
  // Killed between the define and the start: the domain is defined and was never started.
  expect(await domainState(id)).toBe('shut off');
  expect(existsSync(instanceDir(instancesPath, id))).toBe(true);
  expect(await fetchServer(plane, id)).toMatchObject({ status: 'BUILD', 'OS-EXT-STS:task_state': 'spawning' });
  // The build_and_run_instance cast was not acked: the broker holds it again for the next consumer.
  expect(await hostQueue()).toEqual({ ready: 1, unacked: 0, consumers: 0 });

  const restarted = Date.now();
  await startDaemon();
  const server = await settled(plane, id);
  console.log(`restart to ACTIVE after a build killed before its domain started: ${((Date.now() - restarted) / 1000).toFixed(1)} s`);
  expect({ status: server.status, fault: server['fault'] }).toEqual({ status: 'ACTIVE', fault: undefined });
  expect(await domainState(id)).toBe('running');
  expect(redelivered(daemon!, id)).toBe(true);
  await queueDrained();
}, 240_000);

test('a terminate killed between destroying the domain and undefining it: after a restart the redelivered terminate finishes, nothing leaked', async () => {
  expect(id).toBeDefined();
  expect(await domainState(id)).toBe('running');
  // The delete reaches our service only while nova-api holds it up; down, nova-api deletes on its own.
  expect((await host.listedService())?.State).toBe('up');
  const firstPacket = tap!.packets.length;

  await killAt([PROC.DOMAIN_UNDEFINE, PROC.DOMAIN_UNDEFINE_FLAGS], () => deleteServer(plane, id));
  // The daemon destroyed the domain (libvirtd answered the call) and was killed on its way to undefine it.
  const calls = tap!.packets.slice(firstPacket).map((packet) => `${packet.type} ${packet.procedure} ${packet.status}`);
  const destroyed = calls.findIndex((call) => call === `reply ${PROC.DOMAIN_DESTROY} 0` || call === `reply ${PROC.DOMAIN_DESTROY_FLAGS} 0`);
  expect(destroyed).toBeGreaterThanOrEqual(0);
  expect(calls.at(-1)).toMatch(new RegExp(`^call (${PROC.DOMAIN_UNDEFINE}|${PROC.DOMAIN_UNDEFINE_FLAGS}) `));
  expect(await leftovers(plane, instancesPath, id)).toEqual({ domain: 'shut off', directory: true, allocations: [expect.any(String)] });
  expect(await fetchServer(plane, id)).toMatchObject({ 'OS-EXT-STS:task_state': 'deleting' });
  // The terminate_instance cast was not acked: the broker holds it again.
  expect(await hostQueue()).toEqual({ ready: 1, unacked: 0, consumers: 0 });

  const restarted = Date.now();
  await startDaemon();
  await eventually(`server ${id} gone from nova-api`, async () => ((await fetchServer(plane, id)) === null ? true : undefined), 90_000, 250);
  console.log(`restart to the server gone after a terminate killed between destroy and undefine: ${((Date.now() - restarted) / 1000).toFixed(1)} s`);
  expect(await leftovers(plane, instancesPath, id)).toEqual({ domain: null, directory: false, allocations: [] });
  expect(redelivered(daemon!, id)).toBe(true);
  expect(daemon!.log).toMatch(new RegExp(`INFO \\S+ \\[.*\\] \\[instance: ${id}\\] terminate( |$)`, 'm'));
  await queueDrained();
  host.servers.splice(host.servers.indexOf(id), 1);
}, 240_000);
