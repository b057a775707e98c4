/** Root, ephemeral and swap disks as qcow2 overlays, read back with qemu-img and blkid. */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { DiskPreparer } from '../../../src/compute/disk-preparer.js';
import { cacheFileName } from '../../../src/virt/imagecache/cache-names.js';
import { LocalDiskPreparer } from '../../../src/virt/imagecache/disk-preparer.js';
import { FlavorDiskSmallerThanImage } from '../../../src/virt/imagecache/errors/flavor-disk-smaller-than-image.js';
import { ImageUnacceptable } from '../../../src/virt/imagecache/errors/image-unacceptable.js';
import { ImageCache } from '../../../src/virt/imagecache/image-cache.js';
import { createEphemeralDisk, createLocalDisks, createRootDisk, createSwapDisk } from '../../../src/virt/imagecache/instance-disks.js';
import { spawnRequest } from '../fixtures.js';
import { blkidOfGuestView, convertedImage, digest, memoryLogger, qemuImgInfo, tool } from './disk-tools.js';
import { FakeGlance } from './fake-glance.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const CONTEXT = { auth_token: 'token' };

let scratch: string;
let instancesPath: string;
let instanceDir: string;
let imageCache: ImageCache;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'imagecache-disks-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});
beforeEach(async () => {
  instancesPath = await mkdtemp(join(scratch, 'instances-'));
  instanceDir = join(instancesPath, randomUUID());
  await mkdir(instanceDir);
  imageCache = new ImageCache({ instancesPath, apiServers: [], log: memoryLogger() });
});

/** Puts `bytes` in the cache as image `id`, as an earlier download would have. */
async function seed(id: string, bytes: Buffer): Promise<string> {
  await mkdir(join(instancesPath, '_base'), { recursive: true });
  const path = join(instancesPath, '_base', cacheFileName(id));
  await writeFile(path, bytes);
  return path;
}

describe('root disk', () => {
  test('a qcow2 overlay backed by the cached raw image, grown to root_gb', async () => {
    const base = await seed(randomUUID(), randomBytes(3 * MiB));

    const disk = await createRootDisk(instanceDir, base, 1);

    expect(disk).toEqual({ path: join(instanceDir, 'disk'), format: 'qcow2' });
    expect(await qemuImgInfo(disk.path)).toMatchObject({
      format: 'qcow2',
      'backing-filename': base,
      'backing-filename-format': 'raw',
      'virtual-size': GiB,
    });
    expect(await readdir(instanceDir)).toEqual(['disk']);
  });

  test('root_gb 0: the image’s own virtual size; the guest reads the image’s bytes through the overlay', async () => {
    const content = randomBytes(2 * MiB);
    const base = await seed(randomUUID(), await convertedImage(scratch, content, 'qcow2', ['-o', 'cluster_size=131072']));

    const disk = await createRootDisk(instanceDir, base, 0);

    expect(await qemuImgInfo(disk.path)).toMatchObject({
      'backing-filename': base,
      'backing-filename-format': 'qcow2',
      'virtual-size': 2 * MiB,
      // Inherited from the base, as Nova does.
      'cluster-size': 131072,
    });
    const flat = join(scratch, `${randomUUID()}.raw`);
    await tool('qemu-img', 'convert', '-O', 'raw', disk.path, flat);
    expect((await readFile(flat)).equals(content)).toBe(true);
    await rm(flat);
  });

  test('a qcow2 image that Glance calls raw is attached as what it is: qcow2', async () => {
    const id = randomUUID();
    const base = await seed(id, await convertedImage(scratch, randomBytes(MiB), 'qcow2'));

    // ensureImage refuses the contradiction, as Nova's deep inspection does...
    await expect(imageCache.ensureImage(id, CONTEXT, { disk_format: 'raw', size: null, checksum: null, os_hash_algo: null, os_hash_value: null })).rejects.toBeInstanceOf(ImageUnacceptable);
    // ...and the disk never takes disk_format's word: the base is probed.
    const disk = await createRootDisk(instanceDir, base, 1);
    expect(await qemuImgInfo(disk.path)).toMatchObject({ 'backing-filename-format': 'qcow2' });
  });

  test('root_gb smaller than the image’s virtual size: FlavorDiskSmallerThanImage naming both, no disk', async () => {
    const base = await seed(randomUUID(), await convertedImage(scratch, Buffer.alloc(0), 'qcow2'));
    await tool('qemu-img', 'resize', '-f', 'qcow2', base, '3G');

    const error = await createRootDisk(instanceDir, base, 2).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FlavorDiskSmallerThanImage);
    expect(error).toMatchObject({ name: 'FlavorDiskSmallerThanImage', transient: false, flavorSize: 2 * GiB, imageSize: 3 * GiB });
    expect((error as Error).message).toContain(String(2 * GiB));
    expect((error as Error).message).toContain(String(3 * GiB));
    expect((error as Error).message).toContain(base);
    expect(await readdir(instanceDir)).toEqual([]);
  });

  test('a base that would open other host files is refused', async () => {
    const base = await seed(randomUUID(), await convertedImage(scratch, randomBytes(MiB), 'qcow2', ['-o', 'backing_file=/etc/hostname,backing_fmt=raw']));
    await expect(createRootDisk(instanceDir, base, 1)).rejects.toMatchObject({ name: 'ImageUnacceptable', reason: 'format qcow2 has a backing file /etc/hostname' });
    expect(await readdir(instanceDir)).toEqual([]);
  });

  test('an existing disk is left exactly as it is', async () => {
    const base = await seed(randomUUID(), randomBytes(MiB));
    const disk = await createRootDisk(instanceDir, base, 1);
    // The guest writes to its disk.
    await tool('qemu-io', '-f', 'qcow2', '-c', 'write -P 0xab 0 64k', disk.path);
    const before = digest('sha256', await readFile(disk.path));
    const otherBase = await seed(randomUUID(), randomBytes(2 * MiB));

    await expect(createRootDisk(instanceDir, otherBase, 5)).resolves.toEqual(disk);

    expect(digest('sha256', await readFile(disk.path))).toBe(before);
    expect(await qemuImgInfo(disk.path)).toMatchObject({ 'backing-filename': base, 'virtual-size': GiB });
    expect(await readdir(instanceDir)).toEqual(['disk']);
  });
});

describe('ephemeral and swap disks', () => {
  test('disk.local: ext4 labelled ephemeral0 (Nova’s mkfs -t ext4 -F -L ephemeral0), over a shared base file', async () => {
    const base = await imageCache.ensureEphemeralBase(1, 'ext4');
    expect(base).toBe(join(instancesPath, '_base', 'ephemeral_1_40d1d2c'));

    const disk = await createEphemeralDisk(instanceDir, base, 1);

    expect(disk).toEqual({ path: join(instanceDir, 'disk.local'), format: 'qcow2' });
    expect(await qemuImgInfo(disk.path)).toMatchObject({ 'backing-filename': base, 'backing-filename-format': 'raw', 'virtual-size': GiB });
    expect(await blkidOfGuestView(disk.path)).toMatchObject({ TYPE: 'ext4', LABEL: 'ephemeral0' });
    // e2fsck finds the file system clean.
    await tool('e2fsck', '-n', '-f', base);
  });

  test('disk.local: vfat, Nova’s default when neither os_type nor default_ephemeral_format says otherwise', async () => {
    const disk = await createEphemeralDisk(instanceDir, await imageCache.ensureEphemeralBase(1, 'vfat'), 1);
    expect(await blkidOfGuestView(disk.path)).toMatchObject({ TYPE: 'vfat', LABEL: 'ephemeral0' });
  });

  test('disk.swap: a swap area of flavor.swap MiB', async () => {
    const base = await imageCache.ensureSwapBase(64);
    expect(base).toBe(join(instancesPath, '_base', 'swap_64'));

    const disk = await createSwapDisk(instanceDir, base, 64);

    expect(disk).toEqual({ path: join(instanceDir, 'disk.swap'), format: 'qcow2' });
    expect(await qemuImgInfo(disk.path)).toMatchObject({ 'backing-filename': base, 'virtual-size': 64 * MiB });
    expect(await blkidOfGuestView(disk.path)).toMatchObject({ TYPE: 'swap' });
  });

  test('concurrent requests for one base file make it once', async () => {
    const bases = await Promise.all(Array.from({ length: 5 }, () => imageCache.ensureSwapBase(32)));
    expect(new Set(bases).size).toBe(1);
    expect(await readdir(join(instancesPath, '_base'))).toEqual(['swap_32']);
  });
});

test('createLocalDisks: what the planner needs for a flavor with ephemeral and swap; a second run changes nothing', async () => {
  const id = randomUUID();
  await seed(id, randomBytes(MiB));
  const rootImage = await imageCache.ensureImage(id, { auth_token: null }, null);
  const flavor = { root_gb: 1, ephemeral_gb: 1, swap: 16 };
  const request = { instanceDir, rootImage, flavor, ephemeralFilesystem: 'ext4' };

  const images = await createLocalDisks(imageCache, request);

  expect(images).toEqual({
    disk: { path: join(instanceDir, 'disk'), format: 'qcow2' },
    'disk.local': { path: join(instanceDir, 'disk.local'), format: 'qcow2' },
    'disk.swap': { path: join(instanceDir, 'disk.swap'), format: 'qcow2' },
  });
  const files = await Promise.all(Object.values(images).map(async ({ path }) => digest('sha256', await readFile(path))));
  await expect(createLocalDisks(imageCache, request)).resolves.toEqual(images);
  expect(await Promise.all(Object.values(images).map(async ({ path }) => digest('sha256', await readFile(path))))).toEqual(files);
  expect((await readdir(join(instancesPath, '_base'))).sort()).toEqual([basename(rootImage.path), 'ephemeral_1_40d1d2c', 'swap_16'].sort());
});

test('LocalDiskPreparer: a spawn request’s kernel, ramdisk and disks, from Glance, with the image os_type’s file system', async () => {
  const glance = await FakeGlance.start();
  try {
    const request = spawnRequest(
      { kernel_id: 'kernel-1', ramdisk_id: 'ramdisk-1', flavor: { name: 'm1.eph', flavorid: '9', vcpus: 1, memory_mb: 512, root_gb: 1, ephemeral_gb: 1, swap: 0, extra_specs: {} } },
      { os_type: 'linux' },
    );
    const root = await convertedImage(scratch, randomBytes(MiB), 'qcow2');
    request.image = { ...request.image, disk_format: 'qcow2', size: root.length, os_hash_algo: 'sha512', os_hash_value: digest('sha512', root) };
    request.context = { ...request.context, auth_token: 'spawn-token' };
    glance.set(request.image.id!, { kind: 'serve', bytes: root });
    glance.set('kernel-1', { kind: 'serve', bytes: randomBytes(1000) });
    glance.set('ramdisk-1', { kind: 'serve', bytes: randomBytes(1000) });
    // As the spawn pipeline holds it.
    const preparer: DiskPreparer = new LocalDiskPreparer(new ImageCache({ instancesPath, apiServers: [glance.url], log: memoryLogger() }), { defaultEphemeralFormat: null });

    const prepared = await preparer.prepare(request, instanceDir);

    expect(prepared).toEqual({
      images: { disk: { path: join(instanceDir, 'disk'), format: 'qcow2' }, 'disk.local': { path: join(instanceDir, 'disk.local'), format: 'qcow2' } },
      kernel: { kernel: join(instanceDir, 'kernel'), ramdisk: join(instanceDir, 'ramdisk') },
    });
    expect(await blkidOfGuestView(join(instanceDir, 'disk.local'))).toMatchObject({ TYPE: 'ext4', LABEL: 'ephemeral0' });
    expect(new Set(glance.requests.map((r) => r.authToken))).toEqual(new Set(['spawn-token']));
    expect(glance.requests).toHaveLength(3);
  } finally {
    await glance.stop();
  }
});
