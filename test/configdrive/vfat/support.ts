import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriveTree } from '../../../src/configdrive/tree.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a real tool; a non-zero exit is returned, not thrown, so tests can assert on it. */
export function run(command: string, args: string[]): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C.UTF-8' } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

export async function makeTempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'vfat-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Every regular file under `root`, as a DriveTree (what mcopy -s extracted). */
export async function readTreeFromDirectory(root: string): Promise<Map<string, Uint8Array>> {
  const tree = new Map<string, Uint8Array>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    tree.set(full.slice(root.length + 1), await readFile(full));
  }
  return tree;
}

/** Path -> byte length and a cheap content check, so a mismatch report stays readable for multi-MiB files. */
export function expectSameTree(actual: ReadonlyMap<string, Uint8Array>, expected: DriveTree): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [path, bytes] of expected) {
    const got = actual.get(path)!;
    if (Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.length), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)) !== 0) {
      throw new Error(`content of ${path} differs: ${got.length} bytes read, ${bytes.length} written`);
    }
  }
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value, null, 1));

/**
 * The shape of a config drive Nova writes (nova/api/metadata/base.py, metadata_for_config_drive with the
 * default config_drive_skip_versions): 46 files, each under 4 KiB.
 */
export function novaTypicalTree(): Map<string, Uint8Array> {
  const uuid = '8a0f6d8c-1b7e-4a3e-9c55-0c3c6b7f2f11';
  const userData = Buffer.from('#cloud-config\npackages: [htop]\nruncmd:\n  - [sh, -c, "echo hello > /root/hello"]\n');
  const metaData = json({
    uuid,
    meta: { role: 'web' },
    public_keys: { mykey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3 user@host' },
    keys: [{ name: 'mykey', type: 'ssh', data: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3 user@host' }],
    hostname: 'web-1.novalocal',
    name: 'web-1',
    launch_index: 0,
    availability_zone: 'nova',
    random_seed: Buffer.alloc(512, 0x5a).toString('base64'),
    project_id: '6f70656e737461636b20697320636f6f6c',
    devices: [],
    files: [{ path: '/etc/motd', content_path: '/content/0000' }, { path: '/etc/issue', content_path: '/content/0001' }],
  });
  const networkData = json({
    links: [{ id: 'tap1', type: 'ovs', mtu: 1450, ethernet_mac_address: 'fa:16:3e:00:00:01', vif_id: 'p1' }],
    networks: [{ id: 'network0', type: 'ipv4_dhcp', link: 'tap1', network_id: 'n1' }],
    services: [],
  });
  const tree = new Map<string, Uint8Array>();
  for (const version of ['2009-04-04', 'latest']) {
    tree.set(`ec2/${version}/user-data`, userData);
    tree.set(`ec2/${version}/meta-data.json`, json({ 'instance-id': 'i-00000001', 'local-hostname': 'web-1', 'ami-id': 'ami-00000001' }));
  }
  const versions = ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2016-10-06', '2017-02-22', '2018-08-27', '2020-10-14', 'latest'];
  versions.forEach((version, index) => {
    tree.set(`openstack/${version}/meta_data.json`, metaData);
    tree.set(`openstack/${version}/user_data`, userData);
    if (index >= 2) tree.set(`openstack/${version}/vendor_data.json`, json({}));
    if (index >= 3) tree.set(`openstack/${version}/network_data.json`, networkData);
    if (index >= 5) tree.set(`openstack/${version}/vendor_data2.json`, json({ static: {} }));
  });
  tree.set('openstack/content/0000', Buffer.from('Welcome to web-1\n'));
  tree.set('openstack/content/0001', Buffer.from('Debian GNU/Linux\n'));
  return tree;
}

/** mulberry32: small, seeded, good enough to drive a property test reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
