/** The pure rules of the image cache, as tables; and the file publishing they rely on. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/config-error.js';
import { DiskCommandFailed } from '../../../src/virt/imagecache/errors/disk-command-failed.js';
import { runDiskCommand } from '../../../src/virt/imagecache/disk-command.js';
import { checkApiServer, imageFileUrl } from '../../../src/virt/imagecache/glance-url.js';
import { expectedDigest, type ExpectedImage } from '../../../src/virt/imagecache/image-digest.js';
import { unacceptableReason } from '../../../src/virt/imagecache/image-inspection.js';
import { publishFile } from '../../../src/virt/imagecache/publish-file.js';
import type { DiskInfo } from '../../../src/virt/imagecache/qemu-img.js';
import { SingleFlight } from '../../../src/virt/imagecache/single-flight.js';

function info(fields: Partial<DiskInfo>): DiskInfo {
  return { format: 'raw', virtualSize: 1, clusterSize: null, backingFile: null, dataFile: null, ...fields };
}

test.each<[string, Partial<DiskInfo>, string | null, string | null]>([
  ['raw as raw', {}, 'raw', null],
  ['qcow2 as qcow2', { format: 'qcow2' }, 'qcow2', null],
  ['no claim', { format: 'qcow2' }, null, null],
  ['an ISO is raw', {}, 'iso', null],
  ['kernels are not held to aki', {}, 'aki', null],
  ['ami content is whatever it is', { format: 'qcow2' }, 'ami', null],
  ['qcow2 claiming raw', { format: 'qcow2' }, 'raw', 'content is qcow2 but disk_format says raw'],
  ['raw claiming qcow2', {}, 'qcow2', 'content is raw but disk_format says qcow2'],
  ['backing file, even unclaimed', { format: 'qcow2', backingFile: '/etc/shadow' }, null, 'format qcow2 has a backing file /etc/shadow'],
  ['data file', { format: 'qcow2', dataFile: '/dev/sda' }, 'qcow2', 'format qcow2 has an external data file /dev/sda'],
  ['vhd', { format: 'vpc' }, 'vhd', 'format vpc is not supported here (raw, qcow2)'],
])('unacceptableReason: %s', (_, fields, claim, reason) => {
  expect(unacceptableReason(info(fields), claim)).toBe(reason);
});

describe('expectedDigest', () => {
  const none: ExpectedImage = { disk_format: null, size: null, checksum: null, os_hash_algo: null, os_hash_value: null };
  test.each<[string, Partial<ExpectedImage>, string | null, object | null]>([
    ['multihash first', { os_hash_algo: 'sha512', os_hash_value: 'AB', checksum: 'cd' }, null, { algorithm: 'sha512', nodeAlgorithm: 'sha512', value: 'ab' }],
    ['hashlib names', { os_hash_algo: 'sha3_256', os_hash_value: 'ab' }, null, { algorithm: 'sha3_256', nodeAlgorithm: 'sha3-256', value: 'ab' }],
    ['unknown algorithm falls back to md5', { os_hash_algo: 'whirlpool9', os_hash_value: 'ab', checksum: 'CD' }, null, { algorithm: 'md5', nodeAlgorithm: 'md5', value: 'cd' }],
    ['Content-MD5 in hex', {}, '0123456789abcdef0123456789ABCDEF', { algorithm: 'md5 (Content-MD5)', nodeAlgorithm: 'md5', value: '0123456789abcdef0123456789abcdef' }],
    ['Content-MD5 in base64', {}, 'ASNFZ4mrze8BI0VniavN7w==', { algorithm: 'md5 (Content-MD5)', nodeAlgorithm: 'md5', value: '0123456789abcdef0123456789abcdef' }],
    ['metadata beats Content-MD5', { checksum: 'cd' }, '0123456789abcdef0123456789abcdef', { algorithm: 'md5', nodeAlgorithm: 'md5', value: 'cd' }],
    ['garbage Content-MD5 is no digest', {}, 'not-a-digest', null],
    ['nothing', {}, null, null],
  ])('%s', (_, fields, contentMd5, digest) => {
    expect(expectedDigest({ ...none, ...fields }, contentMd5)).toEqual(digest);
  });
});

test('api_servers entries must be http(s) URLs, as Nova requires', () => {
  for (const good of ['http://controller:9292', 'https://glance.example.org/image/']) expect(() => checkApiServer(good)).not.toThrow();
  for (const bad of ['controller:9292', '127.0.0.1:9292', 'ftp://controller', '']) {
    expect(() => checkApiServer(bad)).toThrow(ConfigError);
    expect(() => checkApiServer(bad)).toThrow(`[glance] api_servers = ${JSON.stringify(bad)}`);
  }
  expect(imageFileUrl('https://g.example/image//', 'a b').toString()).toBe('https://g.example/image/v2/images/a%20b/file');
});

test('a disk tool failure names the command and its stderr; only a full disk is transient', async () => {
  const error = await runDiskCommand(['qemu-img', 'info', '/nonexistent/disk']).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DiskCommandFailed);
  expect(error).toMatchObject({ name: 'DiskCommandFailed', status: 'exit 1', transient: false, started: true });
  expect((error as Error).message).toMatch(/^qemu-img info \/nonexistent\/disk failed \(exit 1\): .*No such file or directory/);
  expect(new DiskCommandFailed(['mkfs'], 'exit 1', 'write: No space left on device').transient).toBe(true);
  await expect(runDiskCommand(['no-such-tool-here'])).rejects.toMatchObject({ status: 'ENOENT', started: false });
});

test('SingleFlight: callers during a run share it, failures included; the next call runs again', async () => {
  const flight = new SingleFlight<number>();
  let runs = 0;
  const failing = () => Promise.reject(new Error(`run ${++runs}`));
  const shared = await Promise.allSettled([flight.run('k', failing), flight.run('k', failing)]);
  expect(shared.map((result) => (result as PromiseRejectedResult).reason.message)).toEqual(['run 1', 'run 1']);
  await expect(flight.run('k', failing)).rejects.toThrow('run 2');
});

describe('publishFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'imagecache-publish-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('never replaces a file that is there, and leaves no temporary file', async () => {
    const target = join(dir, 'disk');
    await writeFile(target, 'the guest wrote this');
    await expect(publishFile(target, (temp) => writeFile(temp, 'blank').then(() => 'built'))).resolves.toBe('built');
    expect(await readFile(target, 'utf8')).toBe('the guest wrote this');
    expect(await readdir(dir)).toEqual(['disk']);
  });

  test('a failed build publishes nothing', async () => {
    const target = join(dir, 'image');
    const failing = async (temp: string) => {
      await writeFile(temp, 'half');
      throw new Error('download broke');
    };
    await expect(publishFile(target, failing)).rejects.toThrow('download broke');
    expect(await readdir(dir)).toEqual([]);
  });
});
