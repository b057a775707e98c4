/** The _base cache against a stand-in Glance on 127.0.0.1: what is fetched, how it is checked, what is left. */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageCache, type CachedImage, type ImageCacheOptions } from '../../../src/virt/imagecache/image-cache.js';
import type { ExpectedImage } from '../../../src/virt/imagecache/image-digest.js';
import { cacheFileName } from '../../../src/virt/imagecache/cache-names.js';
import { ImageChecksumMismatch } from '../../../src/virt/imagecache/errors/image-checksum-mismatch.js';
import { ImageDownloadFailed } from '../../../src/virt/imagecache/errors/image-download-failed.js';
import { ImageNotFound } from '../../../src/virt/imagecache/errors/image-not-found.js';
import { ImageUnacceptable } from '../../../src/virt/imagecache/errors/image-unacceptable.js';
import { convertedImage, digest, memoryLogger } from './disk-tools.js';
import { FakeGlance, refusedUrl } from './fake-glance.js';

const CONTEXT = { auth_token: 'gAAAAABtoken-of-the-request' };
const MiB = 2 ** 20;

let glance: FakeGlance;
let backup: FakeGlance;
let scratch: string;
let instancesPath: string;

beforeAll(async () => {
  [glance, backup] = await Promise.all([FakeGlance.start(), FakeGlance.start()]);
  scratch = await mkdtemp(join(tmpdir(), 'imagecache-'));
});
afterAll(async () => {
  await Promise.all([glance.stop(), backup.stop()]);
  await rm(scratch, { recursive: true, force: true });
});
beforeEach(async () => {
  instancesPath = await mkdtemp(join(scratch, 'instances-'));
});

function cache(options: Partial<ImageCacheOptions> = {}): ImageCache {
  return new ImageCache({ instancesPath, apiServers: [glance.url], log: memoryLogger(), ...options });
}

function expectedFor(bytes: Buffer, fields: Partial<ExpectedImage> = {}): ExpectedImage {
  return { disk_format: 'raw', size: bytes.length, checksum: null, os_hash_algo: null, os_hash_value: null, ...fields };
}

async function baseFiles(): Promise<string[]> {
  return readdir(join(instancesPath, '_base')).catch(() => []);
}

test('a cached image is used without asking Glance', async () => {
  const id = randomUUID();
  const bytes = randomBytes(64 * 1024);
  await mkdir(join(instancesPath, '_base'));
  await writeFile(join(instancesPath, '_base', cacheFileName(id)), bytes);
  glance.set(id, { kind: 'status', status: 500 });

  const cached = await cache().ensureImage(id, CONTEXT, expectedFor(bytes));

  expect(cached).toEqual({ id, path: join(instancesPath, '_base', cacheFileName(id)), format: 'raw', virtualSize: bytes.length, clusterSize: null, backingFile: null, dataFile: null });
  expect(glance.requestsFor(id)).toEqual([]);
  // And without any Glance at all.
  await expect(cache({ apiServers: [] }).ensureImage(id, CONTEXT, null)).resolves.toEqual(cached);
});

test('an image neither cached nor obtainable is ImageNotFound', async () => {
  const id = randomUUID();
  const error = await cache({ apiServers: [] }).ensureImage(id, CONTEXT, null).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImageNotFound);
  expect(error).toMatchObject({ name: 'ImageNotFound', transient: false, imageId: id });
  expect((error as Error).message).toContain(id);
  expect((error as Error).message).toContain('api_servers is empty');
});

test('download verified by the md5 checksum: the bytes land under sha1(id), the token is sent', async () => {
  const id = randomUUID();
  const bytes = randomBytes(3 * MiB + 17);
  glance.set(id, { kind: 'serve', bytes });

  const cached = await cache().ensureImage(id, CONTEXT, expectedFor(bytes, { checksum: digest('md5', bytes) }));

  expect(cached.path).toBe(join(instancesPath, '_base', cacheFileName(id)));
  expect(cached.format).toBe('raw');
  expect((await readFile(cached.path)).equals(bytes)).toBe(true);
  expect(glance.requestsFor(id)).toEqual([{ method: 'GET', path: `/v2/images/${id}/file`, authToken: CONTEXT.auth_token }]);
  expect(await baseFiles()).toEqual([cacheFileName(id)]);
});

test('download verified by os_hash sha512; the format is probed (qcow2) and reported with its virtual size', async () => {
  const id = randomUUID();
  const bytes = await convertedImage(scratch, randomBytes(2 * MiB), 'qcow2');
  glance.set(id, { kind: 'serve', bytes });
  const expected = expectedFor(bytes, { disk_format: 'qcow2', checksum: 'not-consulted', os_hash_algo: 'sha512', os_hash_value: digest('sha512', bytes).toUpperCase() });

  const cached = await cache().ensureImage(id, { auth_token: null }, expected);

  expect(cached).toMatchObject({ format: 'qcow2', virtualSize: 2 * MiB });
  expect(glance.requestsFor(id)).toEqual([{ method: 'GET', path: `/v2/images/${id}/file`, authToken: null }]);
});

describe('bytes that are not the image are never cached', () => {
  const cases: [string, (good: Buffer) => Partial<ExpectedImage>, string][] = [
    ['sha512', (good) => ({ os_hash_algo: 'sha512', os_hash_value: digest('sha512', good) }), 'sha512'],
    ['md5 checksum', (good) => ({ checksum: digest('md5', good) }), 'md5'],
    ['size', (good) => ({ size: good.length + 1 }), 'size'],
  ];
  test.each(cases)('%s mismatch -> ImageChecksumMismatch (transient), _base left empty', async (_, fields, check) => {
    const id = randomUUID();
    const good = randomBytes(MiB);
    const served = Buffer.from(good);
    if (check !== 'size') served[12345] ^= 0xff;
    glance.set(id, { kind: 'serve', bytes: served });

    const error = await cache().ensureImage(id, CONTEXT, expectedFor(good, fields(good))).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ImageChecksumMismatch);
    expect(error).toMatchObject({ name: 'ImageChecksumMismatch', transient: true, imageId: id, check });
    expect((error as Error).message).toContain(id);
    expect((error as Error).message).toContain('a new download may succeed');
    expect(await baseFiles()).toEqual([]);
  });

  test('without metadata, the Content-MD5 Glance sends is checked', async () => {
    const id = randomUUID();
    const bytes = randomBytes(4096);
    glance.set(id, { kind: 'serve', bytes, contentMd5: digest('md5', randomBytes(16)) });
    await expect(cache().ensureImage(id, CONTEXT, null)).rejects.toMatchObject({ name: 'ImageChecksumMismatch', check: 'md5 (Content-MD5)' });
    expect(await baseFiles()).toEqual([]);
  });
});

test('Glance 404 -> ImageNotFound (permanent), the next server is not asked', async () => {
  const id = randomUUID();
  backup.set(id, { kind: 'serve', bytes: randomBytes(10) });
  const error = await cache({ apiServers: [glance.url, backup.url] }).ensureImage(id, CONTEXT, null).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImageNotFound);
  expect(error).toMatchObject({ transient: false });
  expect((error as Error).message).toContain(`${glance.url}/v2/images/${id}/file: HTTP 404`);
  expect(backup.requestsFor(id)).toEqual([]);
});

test('500 from the first server, the second one serves', async () => {
  const id = randomUUID();
  const bytes = randomBytes(100_000);
  glance.set(id, { kind: 'status', status: 500 });
  backup.set(id, { kind: 'serve', bytes });

  const cached = await cache({ apiServers: [glance.url, backup.url] }).ensureImage(id, CONTEXT, expectedFor(bytes));

  expect((await readFile(cached.path)).equals(bytes)).toBe(true);
  expect(glance.requestsFor(id)).toHaveLength(1);
  expect(backup.requestsFor(id)).toEqual([{ method: 'GET', path: `/v2/images/${id}/file`, authToken: CONTEXT.auth_token }]);
});

test('a connection dropped mid-image moves on to the next server, and the partial bytes are not kept', async () => {
  const id = randomUUID();
  const bytes = randomBytes(2 * MiB);
  glance.set(id, { kind: 'drop', bytes, after: MiB });
  backup.set(id, { kind: 'serve', bytes });

  const cached = await cache({ apiServers: [glance.url, backup.url] }).ensureImage(id, CONTEXT, expectedFor(bytes, { os_hash_algo: 'sha512', os_hash_value: digest('sha512', bytes) }));

  expect((await readFile(cached.path)).equals(bytes)).toBe(true);
  expect(await baseFiles()).toEqual([cacheFileName(id)]);
});

describe('no server delivers: ImageDownloadFailed, transient, naming every attempt', () => {
  test('connection refused', async () => {
    const id = randomUUID();
    const refused = await refusedUrl();
    const error = await cache({ apiServers: [refused] }).ensureImage(id, CONTEXT, null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageDownloadFailed);
    expect(error).toMatchObject({ name: 'ImageDownloadFailed', transient: true, imageId: id });
    expect((error as ImageDownloadFailed).attempts).toEqual([expect.stringMatching(new RegExp(`^GET ${refused}/v2/images/${id}/file: .*ECONNREFUSED`))]);
    expect(await baseFiles()).toEqual([]);
  });

  test('5xx, dropped and silent servers', async () => {
    const id = randomUUID();
    const bytes = randomBytes(MiB);
    const silent = await FakeGlance.start();
    glance.set(id, { kind: 'status', status: 503 });
    backup.set(id, { kind: 'drop', bytes, after: 1000 });
    silent.set(id, { kind: 'stall', bytes, after: 1000 });
    try {
      const error = await cache({ apiServers: [glance.url, backup.url, silent.url], downloadIdleTimeoutMs: 300 })
        .ensureImage(id, CONTEXT, null)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ImageDownloadFailed', transient: true });
      const attempts = (error as ImageDownloadFailed).attempts;
      expect(attempts).toHaveLength(3);
      expect(attempts[0]).toBe(`GET ${glance.url}/v2/images/${id}/file: HTTP 503`);
      expect(attempts[1]).toMatch(/^GET .*: connection lost after \d+ bytes: aborted/);
      expect(attempts[2]).toMatch(/^GET .*: connection lost after 1000 bytes: no data for 300 ms/);
      expect(await baseFiles()).toEqual([]);
    } finally {
      await silent.stop();
    }
  });

  test('a refused token (401) is permanent and not retried elsewhere', async () => {
    const id = randomUUID();
    glance.set(id, { kind: 'status', status: 401 });
    backup.set(id, { kind: 'serve', bytes: randomBytes(10) });
    const error = await cache({ apiServers: [glance.url, backup.url] }).ensureImage(id, CONTEXT, null).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ImageDownloadFailed', transient: false });
    expect((error as Error).message).toContain('HTTP 401');
    expect(backup.requestsFor(id)).toEqual([]);
  });
});

test('20 concurrent requests for one image: one download, one answer', async () => {
  const id = randomUUID();
  const bytes = randomBytes(5 * MiB);
  glance.set(id, { kind: 'serve', bytes });
  const imageCache = cache();

  const results = await Promise.all(Array.from({ length: 20 }, () => imageCache.ensureImage(id, CONTEXT, expectedFor(bytes))));

  expect(glance.requestsFor(id)).toHaveLength(1);
  expect(new Set(results.map((result: CachedImage) => result.path)).size).toBe(1);
  expect(await baseFiles()).toEqual([cacheFileName(id)]);
});

test('a 50 MiB image is streamed to disk while it arrives, not held in memory', async () => {
  const id = randomUUID();
  const bytes = randomBytes(50 * MiB);
  // The server sends half, then holds the rest until the test has seen the bytes on disk.
  const held = await FakeGlance.start();
  held.set(id, { kind: 'serve', bytes, holdAfter: 25 * MiB });
  try {
    const download = cache({ apiServers: [held.url] }).ensureImage(id, CONTEXT, expectedFor(bytes, { os_hash_algo: 'sha512', os_hash_value: digest('sha512', bytes) }));
    let onDisk = 0;
    for (let polls = 0; onDisk < 16 * MiB && polls < 1000; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const temps = (await baseFiles()).filter((name) => name.startsWith(`${cacheFileName(id)}.part-`));
      onDisk = temps.length === 1 ? (await stat(join(instancesPath, '_base', temps[0]!))).size : 0;
    }
    expect(onDisk).toBeGreaterThanOrEqual(16 * MiB);
    expect(await baseFiles()).not.toContain(cacheFileName(id));
    held.release();
    const cached = await download;
    expect(digest('sha512', await readFile(cached.path))).toBe(digest('sha512', bytes));
    expect(await baseFiles()).toEqual([cacheFileName(id)]);
  } finally {
    await held.stop();
  }
});

test('a download left behind by a dead process is removed; a live one is left alone', async () => {
  const id = randomUUID();
  const bytes = randomBytes(1000);
  const base = join(instancesPath, '_base');
  await mkdir(base);
  const dead = `${cacheFileName(id)}.part-00112233445566ff`;
  const live = `${cacheFileName(randomUUID())}.part-ffeeddccbbaa0099`;
  await writeFile(join(base, dead), 'half an image');
  await writeFile(join(base, live), 'being written');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await utimes(join(base, dead), twoHoursAgo, twoHoursAgo);
  glance.set(id, { kind: 'serve', bytes });

  await cache().ensureImage(id, CONTEXT, expectedFor(bytes));

  expect((await baseFiles()).sort()).toEqual([cacheFileName(id), live].sort());
});

describe('images Nova refuses to use are refused, and not cached', () => {
  let images: Record<string, Buffer>;
  beforeAll(async () => {
    const content = randomBytes(MiB);
    images = {
      qcow2: await convertedImage(scratch, content, 'qcow2'),
      backed: await convertedImage(scratch, content, 'qcow2', ['-o', 'backing_file=/etc/passwd,backing_fmt=raw']),
      vmdk: await convertedImage(scratch, content, 'vmdk'),
    };
  });

  test.each([
    ['qcow2 content claiming disk_format raw', 'qcow2', 'raw', 'content is qcow2 but disk_format says raw'],
    ['a backing file pointing at a host file', 'backed', 'qcow2', 'has a backing file /etc/passwd'],
    ['a format the planner cannot attach', 'vmdk', 'vmdk', 'format vmdk is not supported here'],
  ])('%s', async (_, name, diskFormat, reason) => {
    const id = randomUUID();
    const bytes = images[name]!;
    glance.set(id, { kind: 'serve', bytes });
    const error = await cache().ensureImage(id, CONTEXT, expectedFor(bytes, { disk_format: diskFormat })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageUnacceptable);
    expect(error).toMatchObject({ name: 'ImageUnacceptable', transient: false, image: id });
    expect((error as Error).message).toContain(reason);
    expect(await baseFiles()).toEqual([]);
  });
});

test('kernel and ramdisk are copied into the instance directory from the cache, and kept on a second call', async () => {
  const kernelId = randomUUID();
  const ramdiskId = randomUUID();
  const kernel = randomBytes(300_000);
  const ramdisk = randomBytes(200_000);
  glance.set(kernelId, { kind: 'serve', bytes: kernel });
  glance.set(ramdiskId, { kind: 'serve', bytes: ramdisk });
  const instanceDir = join(instancesPath, randomUUID());
  await mkdir(instanceDir);
  const imageCache = cache();

  const files = await imageCache.ensureKernel(instanceDir, kernelId, ramdiskId, CONTEXT);

  expect(files).toEqual({ kernel: join(instanceDir, 'kernel'), ramdisk: join(instanceDir, 'ramdisk') });
  expect((await readFile(files.kernel)).equals(kernel)).toBe(true);
  expect((await readFile(files.ramdisk!)).equals(ramdisk)).toBe(true);
  expect((await baseFiles()).sort()).toEqual([cacheFileName(kernelId), cacheFileName(ramdiskId)].sort());

  await writeFile(files.kernel, 'kept as it is');
  await rm(join(instancesPath, '_base'), { recursive: true });
  await expect(imageCache.ensureKernel(instanceDir, kernelId, null, CONTEXT)).resolves.toEqual({ kernel: files.kernel, ramdisk: null });
  expect(await readFile(files.kernel, 'utf8')).toBe('kept as it is');
  expect(glance.requestsFor(kernelId)).toHaveLength(1);
  expect(await readdir(instanceDir)).toEqual(['kernel', 'ramdisk']);
});

test('a download logs its size and its rate, counts its bytes in the metrics as they arrive, and tells a listener; a hit is a hit', async () => {
  const id = randomUUID();
  const bytes = randomBytes(2 * MiB + 5);
  glance.set(id, { kind: 'serve', bytes });
  const lines: string[] = [];
  const recorded = { hits: 0, misses: 0, bytes: 0 };
  const metrics = { imageCache: (result: 'hit' | 'miss') => void (result === 'hit' ? recorded.hits++ : recorded.misses++), imageBytesDownloaded: (n: number) => void (recorded.bytes += n) };
  const seen: [number, number | null][] = [];
  const watched = cache({ log: memoryLogger(lines), metrics, downloadListener: { progress: (image, received, size) => void (image === id && seen.push([received, size])) } });

  await watched.ensureImage(id, CONTEXT, expectedFor(bytes));
  await watched.ensureImage(id, CONTEXT, expectedFor(bytes));

  expect(recorded).toEqual({ hits: 1, misses: 1, bytes: bytes.length });
  expect(lines.find((line) => line.includes('downloading image'))).toMatch(/^INFO downloading image: 2\.0 MiB .*"bytes":2097157/);
  expect(lines.find((line) => line.includes('image downloaded'))).toMatch(/^INFO image downloaded: 2\.0 MiB in \d+\.\d s \([\d.]+ [KMG]?i?B\/s\) .*"bytes":2097157/);
  // From 0 to the whole, never backwards, the size known from Content-Length throughout.
  expect(seen[0]).toEqual([0, bytes.length]);
  expect(seen.at(-1)).toEqual([bytes.length, bytes.length]);
  expect(seen.every(([received], index) => index === 0 || received > seen[index - 1]![0])).toBe(true);
});
