/**
 * The end-to-end proof through Nova: `openstack server create` on the real Nova 26 control plane of
 * scripts/control-plane puts a real guest on qemu:///system through `nova-spawnd run`. The server's image is a
 * three-part image in Glance (aki kernel, ari ramdisk, ami root disk naming them by kernel_id and ramdisk_id):
 * nova-api puts their ids on the instance, the daemon fetches them from Glance and boots them directly. The guest
 * (guest.ts) finds its config drive by label config-2, prints every file on its serial console (console.log in
 * the instance directory) and powers off; the test compares those bytes with what was asked of Nova and with the
 * EC2 ids Nova's database gave the instance and its images.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { consoleLogPath } from '../../src/virt/instance-paths.js';
import { ComputeHost, ec2ImageId, ec2InstanceId, remove, settled } from '../control-plane/compute-host.js';
import { openstack, type ControlPlane } from '../control-plane/control-plane.js';
import { parseGuestDump, type GuestDump } from './console-dump.js';
import type { GuestImage } from './guest.js';
import { createGuestFlavor, endGuestHost, GUEST_HOST_START_MS, newGuestHost, uploadGuest, type Cleanups, type GuestHost } from './guest-server.js';
import { virsh, waitForShutoff } from './libvirtd.js';

const execFileAsync = promisify(execFile);
const SUFFIX = randomBytes(4).toString('hex');
const HOST = `compute-guest-${SUFFIX}`;
const SERVER_NAME = `guest-${SUFFIX}`;

let fixture: GuestHost | undefined;
let plane: ControlPlane;
let guest: GuestImage;
let dir: string;
let host: ComputeHost;
let cleanups: Cleanups;

beforeAll(async () => {
  fixture = await newGuestHost(HOST, 'server-create-');
  ({ plane, guest, dir, host, cleanups } = fixture);
  await host.start();
  await host.waitUntilListed();
}, GUEST_HOST_START_MS);

afterAll(() => endGuestHost(fixture), 180_000);

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
  const images = await uploadGuest(plane, guest, guest.cmdline, { dir, suffix: SUFFIX, cleanups });
  const keypair = await createKeypair();
  const userData = join(dir, 'user-data');
  writeFileSync(userData, `#!/bin/sh\necho booted by ${SUFFIX}\n`);

  const began = Date.now();
  const id = await host.createServer(SERVER_NAME, [
    '--config-drive', 'true', '--image', images.image, '--flavor', await createGuestFlavor(plane, SUFFIX, cleanups),
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
