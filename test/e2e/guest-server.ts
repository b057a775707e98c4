/**
 * What the tests that boot the e2e guest (guest.ts) through `openstack server create` on the control plane
 * share: the compute host's state directory and nova.conf, the guest as a three-part image in Glance (its
 * /init the test's choice), a flavor it fits in, the server's delete as a user types it, and what the host
 * and placement still hold of a server.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { instanceDir } from '../../src/virt/instance-paths.js';
import { ComputeHost, remove } from '../control-plane/compute-host.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, getJson, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { ensureGuestImage, type GuestImage } from './guest.js';
import { ensureLibvirtd, INSTALL_TIMEOUT_MS, SYSTEM_URI, virsh } from './libvirtd.js';
import { ToolFailedError } from './run-tool.js';

const execFileAsync = promisify(execFile);

/** Cleanups a test runs in reverse at its end, failed or not. */
export type Cleanups = (() => Promise<unknown>)[];

/** A compute host on qemu:///system and what its test made for it. */
export interface GuestHost {
  plane: ControlPlane;
  guest: GuestImage;
  /** Its state directory (guestStateDir), nova.conf in it. */
  dir: string;
  config: string;
  host: ComputeHost;
  /** Run by endGuestHost, in reverse. */
  cleanups: Cleanups;
}

/** What a beforeAll calling newGuestHost and starting its daemon should allow. */
export const GUEST_HOST_START_MS = Math.max(CONTROL_PLANE_START_MS, INSTALL_TIMEOUT_MS) + 120_000;

/**
 * The control plane, libvirtd and the guest image up, then a compute host named `name` with a fresh state
 * directory (`<prefix>XXXXXX`) and its nova.conf (writeGuestHostConfig with `extra`), its daemon not started
 * yet: assigned first, the fixture is there for endGuestHost whatever fails after.
 */
export async function newGuestHost(name: string, prefix: string, extra: Record<string, Record<string, string>> = {}): Promise<GuestHost> {
  const [plane, guest] = await Promise.all([startControlPlane(), ensureLibvirtd().then(() => ensureGuestImage())]);
  await retireStaleGuestHosts(plane);
  const dir = guestStateDir(prefix);
  const config = writeGuestHostConfig(plane, name, dir, extra);
  return { plane, guest, dir, config, host: new ComputeHost(plane, name, config), cleanups: [] };
}

/**
 * Every guest host is a node named by libvirt's hostname, and placement refuses a second provider of that
 * name: a host a crashed run left behind (its service down) would make every server NoValidHost. Its service
 * record goes, and with it its compute node and provider.
 */
async function retireStaleGuestHosts(plane: ControlPlane): Promise<void> {
  const node = (await virsh('hostname')).trim();
  const api = { 'OpenStack-API-Version': 'compute 2.53' };
  const { hypervisors } = (await getJson(`${plane.compute_url}/os-hypervisors/detail`, plane, api)) as { hypervisors: { hypervisor_hostname: string; state: string; service: { id: string; host: string } }[] };
  for (const stale of hypervisors.filter((hypervisor) => hypervisor.hypervisor_hostname === node && hypervisor.state === 'down')) {
    console.warn(`removing the stale compute host ${stale.service.host} (node ${node}, down) left by an earlier run`);
    await remove(plane, `${plane.compute_url}/os-services/${stale.service.id}`, api);
  }
}

/**
 * The end of a GuestHost whatever its test did: the domains of its servers removed (a failed test may leave
 * one running), the host retired (its servers deleted, then its service, compute node and resource
 * provider), its cleanups run, its directory removed.
 */
export async function endGuestHost(fixture: GuestHost | undefined): Promise<void> {
  if (fixture === undefined) return;
  try {
    for (const server of fixture.host.servers) await removeDomain(server);
    await fixture.host.retire();
  } finally {
    for (const cleanup of fixture.cleanups.reverse()) await cleanup().catch((error: Error) => console.warn(`cleanup: ${error.message}`));
    rmSync(fixture.dir, { recursive: true, force: true });
  }
}

/**
 * A fresh state directory for a compute host on qemu:///system, named `<prefix>XXXXXX`: QEMU runs as
 * libvirt-qemu, so the instances must live where it can reach them (not under a 0700 /tmp directory).
 */
export function guestStateDir(prefix: string): string {
  mkdirSync('/var/lib/nova-spawnd-test', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join('/var/lib/nova-spawnd-test', prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Writes `<dir>/nova.conf` of a compute host that boots guests on qemu:///system under TCG with images from
 * the control plane's Glance; `extra` sets options of a section (connection_uri included). Its path.
 */
export function writeGuestHostConfig(plane: ControlPlane, host: string, dir: string, extra: Record<string, Record<string, string>> = {}): string {
  const file = join(dir, 'nova.conf');
  const { libvirt, glance, ...others } = extra;
  writeFileSync(
    file,
    computeHostConfig(plane, host, dir, {
      ...others,
      libvirt: { virt_type: 'qemu', connection_uri: SYSTEM_URI, ...libvirt },
      glance: { api_servers: plane.glance_url, ...glance },
    }),
  );
  return file;
}

/**
 * The kernel command line of the e2e guest with `script` run by busybox's shell as PID 1 instead of its
 * /init (the kernel hands what follows "--" to init, a quoted word as one argument). `script` must not
 * contain double quotes; /proc is mounted first.
 */
export function shellInitCmdline(guest: GuestImage, script: string): string {
  if (script.includes('"')) throw new Error(`the guest's script cannot hold a double quote: ${script}`);
  return `${guest.cmdline} rdinit=/bin/busybox -- sh -c "/bin/busybox mount -t proc proc /proc; ${script}"`;
}

/** The ids of the guest's three images in Glance. */
export interface GuestImages {
  /** The ami, the server's image. */
  image: string;
  kernel: string;
  ramdisk: string;
}

/**
 * The guest as a three-part image in Glance (deleted by `cleanups`): aki kernel, ari ramdisk, and an ami
 * whose kernel_id and ramdisk_id name them (nova-api copies them to the instance) and whose os_command_line
 * is `cmdline` (the kernel command line the libvirt driver gives it). The root disk is a blank 1 MiB raw file
 * made in `dir`: the guest runs from its initramfs.
 */
export async function uploadGuest(plane: ControlPlane, guest: GuestImage, cmdline: string, options: { dir: string; suffix: string; cleanups: Cleanups }): Promise<GuestImages> {
  const { dir, suffix, cleanups } = options;
  const upload = async (name: string, file: string, format: 'aki' | 'ari' | 'ami', properties: Record<string, string> = {}): Promise<string> => {
    const propertyArgs = Object.entries(properties).flatMap(([key, value]) => ['--property', `${key}=${value}`]);
    const image = (await openstack(plane, 'image', ['image', 'create', '--disk-format', format, '--container-format', format, '--file', file, ...propertyArgs, name])) as { id: string };
    cleanups.push(() => remove(plane, `${plane.glance_url}/v2/images/${image.id}`));
    return image.id;
  };
  const rootDisk = join(dir, 'root.img');
  await execFileAsync('qemu-img', ['create', '-q', '-f', 'raw', rootDisk, '1M']);
  const kernel = await upload(`guest-kernel-${suffix}`, guest.kernel, 'aki');
  const ramdisk = await upload(`guest-ramdisk-${suffix}`, guest.initrd, 'ari');
  const image = await upload(`guest-${suffix}`, rootDisk, 'ami', { kernel_id: kernel, ramdisk_id: ramdisk, os_command_line: cmdline });
  return { image, kernel, ramdisk };
}

/** A flavor of 128 MiB (what the guest's kernel and initramfs need) and 1 vCPU, deleted by `cleanups`; its name. */
export async function createGuestFlavor(plane: ControlPlane, suffix: string, cleanups: Cleanups): Promise<string> {
  const name = `guest-${suffix}`;
  const flavor = (await openstack(plane, 'compute', ['flavor', 'create', '--ram', '128', '--vcpus', '1', '--disk', '1', name])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.compute_url}/flavors/${flavor.id}`));
  return name;
}

/**
 * `openstack server delete <id>` as a user types it (it prints nothing, so not through openstack()). Asked
 * again, up to three times, while nova-api refused it without starting the delete (HTTP 500: a loaded
 * control plane, now and then); a delete it did start is never asked for twice.
 */
export async function deleteServer(plane: ControlPlane, id: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await execFileAsync('/usr/bin/openstack', ['--os-auth-type', 'admin_token', '--os-endpoint', plane.compute_url, '--os-token', plane.token, 'server', 'delete', id], {
        timeout: 60_000,
        env: { ...process.env, OS_CLOUD: '' },
      });
      return;
    } catch (error) {
      const server = await fetchServer(plane, id);
      if (server === null) return;
      if (attempt >= 3 || server['OS-EXT-STS:task_state'] === 'deleting') throw error;
      console.warn(`openstack server delete ${id} refused (attempt ${attempt}), asking again: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** nova-api's GET /servers/{id}: the server, or null once it is gone (404). Faster than the CLI, for polling. */
export async function fetchServer(plane: ControlPlane, id: string): Promise<Record<string, unknown> | null> {
  const response = await fetch(`${plane.compute_url}/servers/${id}`, { headers: { 'X-Auth-Token': plane.token, 'OpenStack-API-Version': 'compute 2.74' } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`GET /servers/${id}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { server: Record<string, unknown> }).server;
}

/** The resource providers placement holds allocations of the consumer (an instance) against. */
export async function allocationProviders(plane: ControlPlane, consumer: string): Promise<string[]> {
  const { allocations } = (await getJson(`${plane.placement_url}/allocations/${consumer}`, plane)) as { allocations: Record<string, unknown> };
  return Object.keys(allocations);
}

/** `virsh domstate` of the instance's domain (libvirt's uuid is the instance's), or null when libvirt has none. */
export async function domainState(uuid: string): Promise<string | null> {
  try {
    return (await virsh('domstate', uuid)).trim();
  } catch (error) {
    if (error instanceof ToolFailedError && /failed to get domain|Domain not found/i.test(error.stderr)) return null;
    throw error;
  }
}

/** Destroys and undefines the instance's domain if libvirt holds one: a failed test's cleanup. */
export async function removeDomain(uuid: string): Promise<void> {
  const gone = (error: unknown) => {
    if (!(error instanceof ToolFailedError && /failed to get domain|Domain not found|not running/i.test(error.stderr))) throw error;
  };
  await virsh('destroy', uuid).catch(gone);
  await virsh('undefine', uuid).catch(gone);
}

/** What is left of an instance on this host and in placement: a domain's state, its directory, its allocations. */
export async function leftovers(plane: ControlPlane, instancesPath: string, uuid: string): Promise<{ domain: string | null; directory: boolean; allocations: string[] }> {
  return {
    domain: await domainState(uuid),
    directory: existsSync(instanceDir(instancesPath, uuid)),
    allocations: await allocationProviders(plane, uuid),
  };
}
