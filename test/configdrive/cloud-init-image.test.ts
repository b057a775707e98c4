/**
 * cloud-init reading our images, not just our trees: the drive is built as the daemon builds it, the files
 * are taken out of the image by an independent reader (xorriso, mtools), and cloud-init's own
 * ConfigDriveReader and convert_net_json see exactly what they see on the tree itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { makeDrive, type ConfigDriveFormat } from '../../src/configdrive/make-drive.js';
import { buildInstanceMetadata, toDriveTree } from '../../src/metadata/instance-metadata.js';
import { readDirectoryWithCloudInit, readWithCloudInit, base64Of } from '../metadata/cloud-init-reference.js';
import { FULL_BLOCK_DEVICES, fullRequest, KEY, MAC_1, MAC_2, testOptions, USER_DATA } from '../metadata/fixtures.js';

const KNOWN_MACS = { [MAC_1]: 'ens3', [MAC_2]: 'ens4' };
const request = fullRequest();
const tree = toDriveTree(buildInstanceMetadata(request, testOptions(), FULL_BLOCK_DEVICES));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-cloudinit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function extract(format: ConfigDriveFormat, image: string, into: string): void {
  mkdirSync(into);
  if (format === 'iso9660') execFileSync('xorriso', ['-osirrox', 'on', '-indev', image, '-extract', '/', into], { stdio: 'ignore' });
  else execFileSync('mcopy', ['-s', '-i', image, '::/openstack', '::/ec2', into]);
}

test.each(['iso9660', 'vfat'] as const)('cloud-init reads a %s drive built by makeDrive as it reads the tree', async (format) => {
  const image = join(dir, 'disk.config');
  await makeDrive(tree, image, { format, mkisofsCmd: null, recordedAt: new Date('2026-11-26T00:00:00Z') });
  const root = join(dir, 'mnt');
  extract(format, image, root);

  const fromImage = await readDirectoryWithCloudInit(root, KNOWN_MACS);
  expect(fromImage).toEqual(await readWithCloudInit(tree, KNOWN_MACS));

  // And what that view says, in the terms of the request.
  const metadata = fromImage.read_v2['metadata'] as Record<string, unknown>;
  expect(metadata['uuid']).toBe(request.instance.uuid);
  expect(metadata['hostname']).toBe(`${request.instance.hostname}.novalocal`);
  expect(fromImage.public_ssh_keys).toEqual([KEY]);
  expect(base64Of(fromImage.read_v2['userdata']).toString()).toBe(USER_DATA);
  expect(fromImage.network_config?.config.map((entry) => entry['mac_address']).filter(Boolean)).toEqual([MAC_1, MAC_2]);
});
