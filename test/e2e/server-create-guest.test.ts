/**
 * The end-to-end proof through Nova: `openstack server create` on the real Nova 26 control plane of
 * scripts/control-plane puts a real guest on qemu:///system through `nova-spawnd run`. The server's image is a
 * three-part image in Glance (aki kernel, ari ramdisk, ami root disk naming them by kernel_id and ramdisk_id):
 * nova-api puts their ids on the instance, the daemon fetches them from Glance and boots them directly. The guest
 * (guest.ts) finds its config drive by label config-2, prints every file on its serial console (console.log in
 * the instance directory) and powers off; the test compares those bytes with what was asked of Nova and with the
 * EC2 ids Nova's database gave the instance and its images.
 * terminate_instance is not ours yet (issue 14): ComputeHost.retire() lets nova-api delete the server while our
 * service is down, and the test removes the libvirt domain itself.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { consoleLogPath } from '../../src/virt/instance-paths.js';
import { ComputeHost, ec2ImageId, ec2InstanceId, remove, settled } from '../control-plane/compute-host.js';
import { computeHostConfig, CONTROL_PLANE_START_MS, openstack, startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { parseGuestDump, type GuestDump } from './console-dump.js';
import { ensureGuestImage, type GuestImage } from './guest.js';
import { ensureLibvirtd, INSTALL_TIMEOUT_MS, SYSTEM_URI, virsh, waitForShutoff } from './libvirtd.js';
import { ToolFailedError } from './run-tool.js';

const execFileAsync = promisify(execFile);
const SUFFIX = randomBytes(4).toString('hex');
const HOST = `compute-guest-${SUFFIX}`;
const SERVER_NAME = `guest-${SUFFIX}`;
/** qemu runs as libvirt-qemu: the instances must live where it can reach them (not under a 0700 /tmp dir). */
const STATE_ROOT = '/var/lib/nova-spawnd-test';

let plane: ControlPlane;
let guest: GuestImage;
let dir: string;
let host: ComputeHost;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [plane, guest] = await Promise.all([startControlPlane(), ensureLibvirtd().then(() => ensureGuestImage())]);
  mkdirSync(STATE_ROOT, { recursive: true, mode: 0o755 });
  dir = mkdtempSync(join(STATE_ROOT, 'server-create-'));
  chmodSync(dir, 0o755);
  const config = join(dir, 'nova.conf');
  writeFileSync(
    config,
    computeHostConfig(plane, HOST, dir, {
      libvirt: { virt_type: 'qemu', connection_uri: SYSTEM_URI },
      glance: { api_servers: plane.glance_url },
    }),
  );
  host = new ComputeHost(plane, HOST, config);
  await host.start();
  await host.waitUntilListed();
}, Math.max(CONTROL_PLANE_START_MS, INSTALL_TIMEOUT_MS) + 120_000);

afterAll(async () => {
  try {
    // The guest powers itself off, but a failed test may leave it running: end it before waiting on Nova.
    for (const server of host?.servers ?? []) await removeDomain(server);
    if (host) await host.retire();
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: Error) => console.warn(`cleanup: ${error.message}`));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

/** Destroys and undefines the domain of an instance (libvirt's uuid is the instance's) if libvirt holds one. */
async function removeDomain(uuid: string): Promise<void> {
  const gone = (error: unknown) => {
    if (!(error instanceof ToolFailedError && /failed to get domain|Domain not found|not running/i.test(error.stderr))) throw error;
  };
  await virsh('destroy', uuid).catch(gone);
  await virsh('undefine', uuid).catch(gone);
}

/** Uploads a file to the control plane's Glance (deleted at the end); its id. */
async function uploadImage(name: string, file: string, format: 'aki' | 'ari' | 'ami', properties: Record<string, string> = {}): Promise<string> {
  const propertyArgs = Object.entries(properties).flatMap(([key, value]) => ['--property', `${key}=${value}`]);
  const image = (await openstack(plane, 'image', ['image', 'create', '--disk-format', format, '--container-format', format, '--file', file, ...propertyArgs, name])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.glance_url}/v2/images/${image.id}`));
  return image.id;
}

/**
 * The guest as a three-part image: Nova copies the machine image's kernel_id and ramdisk_id to the instance;
 * os_command_line is the kernel command line the libvirt driver gives it. The root disk is blank: the guest
 * runs from its initramfs.
 */
async function uploadGuest(): Promise<{ image: string; kernel: string; ramdisk: string }> {
  const rootDisk = join(dir, 'root.img');
  await execFileAsync('qemu-img', ['create', '-q', '-f', 'raw', rootDisk, '1M']);
  const kernel = await uploadImage(`guest-kernel-${SUFFIX}`, guest.kernel, 'aki');
  const ramdisk = await uploadImage(`guest-ramdisk-${SUFFIX}`, guest.initrd, 'ari');
  const image = await uploadImage(`guest-${SUFFIX}`, rootDisk, 'ami', { kernel_id: kernel, ramdisk_id: ramdisk, os_command_line: guest.cmdline });
  return { image, kernel, ramdisk };
}

async function createFlavor(): Promise<string> {
  const name = `guest-${SUFFIX}`;
  // 128 MiB: the guest's kernel and initramfs need more than the 64 MiB of the other control plane tests.
  const flavor = (await openstack(plane, 'compute', ['flavor', 'create', '--ram', '128', '--vcpus', '1', '--disk', '1', name])) as { id: string };
  cleanups.push(() => remove(plane, `${plane.compute_url}/flavors/${flavor.id}`));
  return name;
}

async function createKeypair(): Promise<{ name: string; publicKey: string }> {
  const name = `guest-${SUFFIX}`;
  const keyFile = join(dir, 'key');
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', keyFile]);
  await openstack(plane, 'compute', ['keypair', 'create', '--public-key', `${keyFile}.pub`, name]);
  cleanups.push(() => remove(plane, `${plane.compute_url}/os-keypairs/${name}`));
  return { name, publicKey: readFileSync(`${keyFile}.pub`, 'utf8') };
}

function printDrive(dump: GuestDump): void {
  const text = (path: string) => dump.files.get(path)?.toString('utf8').trimEnd() ?? '(missing)';
  console.log(
    [
      `the guest found its drive on ${dump.device} (${dump.fstype}), ${dump.files.size} files:`,
      ...[...dump.files].map(([path, bytes]) => `  ${String(bytes.length).padStart(6)}  ${path}`),
      '--- openstack/latest/meta_data.json ---',
      text('openstack/latest/meta_data.json'),
      '--- openstack/latest/user_data ---',
      text('openstack/latest/user_data'),
      '--- ec2/latest/meta-data.json ---',
      text('ec2/latest/meta-data.json'),
    ].join('\n'),
  );
}

test('openstack server create boots a real guest on qemu:///system that reads back its uuid, name, meta, key, user data and EC2 ids from its drive', async () => {
  const images = await uploadGuest();
  const keypair = await createKeypair();
  const userData = join(dir, 'user-data');
  writeFileSync(userData, `#!/bin/sh\necho booted by ${SUFFIX}\n`);

  const began = Date.now();
  const id = await host.createServer(SERVER_NAME, [
    '--config-drive', 'true', '--image', images.image, '--flavor', await createFlavor(),
    '--user-data', userData, '--property', `purpose=e2e-${SUFFIX}`, '--key-name', keypair.name,
  ]);
  const server = await settled(plane, id);
  const activeSeconds = (Date.now() - began) / 1000;
  expect({ status: server.status, fault: server['fault'] }).toEqual({ status: 'ACTIVE', fault: undefined });
  expect(server).toMatchObject({ 'OS-EXT-SRV-ATTR:host': HOST, 'OS-EXT-STS:power_state': 1 });

  // The domain boots the kernel and ramdisk fetched from Glance into the instance directory, under TCG.
  const instanceDir = join(dir, 'instances', id);
  const xml = await virsh('dumpxml', id);
  expect(xml).toContain("<domain type='qemu'");
  expect(xml).toContain(`<kernel>${join(instanceDir, 'kernel')}</kernel>`);
  expect(xml).toContain(`<initrd>${join(instanceDir, 'ramdisk')}</initrd>`);
  expect(xml).toContain(`<cmdline>${guest.cmdline}</cmdline>`);

  const consolePath = consoleLogPath(join(dir, 'instances'), id);
  const bootMs = await waitForShutoff(id, { consolePath });
  console.log(`server create to ACTIVE: ${activeSeconds.toFixed(1)} s; ACTIVE to the guest powered off after its dump: ${(bootMs / 1000).toFixed(1)} s`);
  const dump = parseGuestDump(readFileSync(consolePath, 'utf8'));
  printDrive(dump);

  expect(dump.fstype).toBe('iso9660');
  const metaData = JSON.parse(dump.files.get('openstack/latest/meta_data.json')!.toString('utf8')) as Record<string, unknown>;
  expect(metaData).toMatchObject({ uuid: id, name: SERVER_NAME, meta: { purpose: `e2e-${SUFFIX}` } });
  expect(metaData['public_keys']).toEqual({ [keypair.name]: keypair.publicKey });
  expect(dump.files.get('openstack/latest/user_data')).toEqual(readFileSync(userData));

  const ec2 = JSON.parse(dump.files.get('ec2/latest/meta-data.json')!.toString('utf8')) as Record<string, unknown>;
  expect(ec2).toMatchObject({
    'instance-id': await ec2InstanceId(plane, id),
    'ami-id': await ec2ImageId(plane, 'ami', images.image),
    'kernel-id': await ec2ImageId(plane, 'aki', images.kernel),
    'ramdisk-id': await ec2ImageId(plane, 'ari', images.ramdisk),
  });
}, 300_000);
