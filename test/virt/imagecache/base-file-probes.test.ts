/**
 * qemu-img info once per cache file and process: first the rules of BaseFileProbes with a counting probe on
 * real files, then the real qemu-img counted through a stand-in on PATH while the image cache makes disks.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseFileProbes } from '../../../src/virt/imagecache/base-file-probes.js';
import { cacheFileName } from '../../../src/virt/imagecache/cache-names.js';
import { ImageUnacceptable } from '../../../src/virt/imagecache/errors/image-unacceptable.js';
import { ImageCache } from '../../../src/virt/imagecache/image-cache.js';
import { createLocalDisks } from '../../../src/virt/imagecache/instance-disks.js';
import type { DiskInfo } from '../../../src/virt/imagecache/qemu-img.js';
import { convertedImage, memoryLogger, qemuImgInfo, tool } from './disk-tools.js';

const MiB = 2 ** 20;
const CONTEXT = { auth_token: null };

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'imagecache-probes-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('BaseFileProbes', () => {
  let base: string;
  let calls: string[];
  let probes: BaseFileProbes;
  let failNext: boolean;

  beforeEach(async () => {
    base = join(await mkdtemp(join(scratch, 'instances-')), '_base');
    await mkdir(base);
    calls = [];
    failNext = false;
    probes = new BaseFileProbes(async (path) => {
      calls.push(path);
      if (failNext) {
        failNext = false;
        throw new Error(`probe of ${path} failed`);
      }
      return { format: 'raw', virtualSize: (await stat(path)).size, clusterSize: null, backingFile: null, dataFile: null } satisfies DiskInfo;
    });
  });

  async function cacheFile(name: string, bytes: Buffer = randomBytes(1000)): Promise<string> {
    const path = join(base, name);
    await writeFile(path, bytes);
    return path;
  }

  test('a published cache file is probed once, concurrent callers included', async () => {
    const path = await cacheFile(cacheFileName(randomUUID()));
    const first = await Promise.all(Array.from({ length: 5 }, () => probes.info(path)));
    const later = await probes.info(path);
    expect(calls).toEqual([path]);
    expect(new Set([...first, later]).size).toBe(1);
    expect(later).toEqual({ format: 'raw', virtualSize: 1000, clusterSize: null, backingFile: null, dataFile: null });
    expect(Object.isFrozen(later)).toBe(true);
  });

  test('a file changed under the same name is probed again: grown, replaced, mtime set back', async () => {
    const path = await cacheFile('ephemeral_1_40d1d2c');
    await probes.info(path);

    await appendFile(path, 'more');
    expect(await probes.info(path)).toMatchObject({ virtualSize: 1004 });

    // A new file (new inode) renamed over it, of the same size.
    await writeFile(`${path}.new`, randomBytes(1004));
    await rename(`${path}.new`, path);
    await probes.info(path);

    // Rewritten in place and its mtime set back: only the ctime tells, so wait for the clock to move it.
    const SET_BACK = 1_000_000_000;
    await utimes(path, SET_BACK, SET_BACK);
    await probes.info(path);
    const before = await stat(path, { bigint: true });
    let after = before;
    while (after.ctimeNs === before.ctimeNs) {
      await writeFile(path, randomBytes(1004));
      await utimes(path, SET_BACK, SET_BACK);
      after = await stat(path, { bigint: true });
    }
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    await probes.info(path);

    expect(calls).toEqual([path, path, path, path, path]);
    await probes.info(path);
    expect(calls).toHaveLength(5);
  });

  test('downloads in progress and files outside _base are probed on every call', async () => {
    const part = await cacheFile(`${cacheFileName(randomUUID())}.part-0123456789abcdef`);
    const elsewhere = join(scratch, `disk-${randomUUID()}`);
    await writeFile(elsewhere, 'x');
    for (let i = 0; i < 2; i++) await Promise.all([probes.info(part), probes.info(elsewhere)]);
    expect(calls.sort()).toEqual([elsewhere, elsewhere, part, part].sort());
  });

  test('a failed probe is not remembered; a file that is gone is left to the probe to report', async () => {
    const path = await cacheFile(cacheFileName(randomUUID()));
    failNext = true;
    await expect(probes.info(path)).rejects.toThrow(`probe of ${path} failed`);
    await probes.info(path);
    await probes.info(path);
    expect(calls).toEqual([path, path]);

    await unlink(path);
    await expect(probes.info(path)).rejects.toThrow('ENOENT');
    expect(calls).toEqual([path, path, path]);
  });

  test('infoIfPresent: null for a file not there (nothing probed), the remembered probe for one that is', async () => {
    const path = join(base, cacheFileName(randomUUID()));
    await expect(probes.infoIfPresent(path)).resolves.toBeNull();
    expect(calls).toEqual([]);

    await writeFile(path, randomBytes(700));
    const first = await probes.infoIfPresent(path);
    expect(first).toMatchObject({ virtualSize: 700 });
    expect(await probes.info(path)).toBe(first);
    expect(calls).toEqual([path]);

    // Gone again: forgotten, so a new file under the name is probed afresh.
    await unlink(path);
    await expect(probes.infoIfPresent(path)).resolves.toBeNull();
    await writeFile(path, randomBytes(700));
    await probes.infoIfPresent(path);
    expect(calls).toEqual([path, path]);

    await expect(probes.infoIfPresent(`${path}.part-0123456789abcdef`)).rejects.toThrow(RangeError);
  });

  test("a cache the host cannot look into fails with the file system's error, not the probe's", async () => {
    // _base is a file: stat of anything in it is ENOTDIR (qemu-img would call the image unreadable).
    await rm(base, { recursive: true });
    await writeFile(base, 'not a directory\n');
    const path = join(base, cacheFileName(randomUUID()));
    await expect(probes.infoIfPresent(path)).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(probes.info(path)).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(calls).toEqual([]);
  });
});

describe('the image cache with the real qemu-img, each run of it logged', () => {
  let log: string;
  let savedPath: string | undefined;

  beforeAll(async () => {
    const qemuImg = (await tool('sh', '-c', 'command -v qemu-img')).trim();
    const bin = join(scratch, 'bin');
    await mkdir(bin);
    log = join(scratch, 'qemu-img.log');
    await writeFile(join(bin, 'qemu-img'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${qemuImg}' "$@"\n`);
    await chmod(join(bin, 'qemu-img'), 0o755);
    savedPath = process.env['PATH'];
    process.env['PATH'] = `${bin}:${savedPath ?? ''}`;
  });
  afterAll(() => {
    process.env['PATH'] = savedPath;
  });

  async function runs(): Promise<string[]> {
    const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
    await rm(log, { force: true });
    return lines;
  }

  test('spawn after spawn: one qemu-img info per base file, and no qemu-img create', async () => {
    const instancesPath = await mkdtemp(join(scratch, 'instances-'));
    const cache = new ImageCache({ instancesPath, apiServers: [], log: memoryLogger() });
    await mkdir(join(instancesPath, '_base'));
    const id = randomUUID();
    const basePath = join(instancesPath, '_base', cacheFileName(id));
    await writeFile(basePath, randomBytes(2 * MiB));
    const swapBase = await cache.ensureSwapBase(16);
    expect(await runs()).toEqual([expect.stringMatching(/^create -f raw \S*\/swap_16\.part-[0-9a-f]{16} 16M$/)]);

    for (const n of [1, 2, 3]) {
      const instanceDir = join(instancesPath, `instance-${n}`);
      await mkdir(instanceDir);
      const rootImage = await cache.ensureImage(id, CONTEXT, { disk_format: 'raw', size: null, checksum: null, os_hash_algo: null, os_hash_value: null });
      await createLocalDisks(cache, { instanceDir, rootImage, flavor: { root_gb: 1, ephemeral_gb: 0, swap: 16 }, ephemeralFilesystem: 'ext4' });
      expect(await qemuImgInfo(join(instanceDir, 'disk'))).toMatchObject({ 'backing-filename': basePath, 'virtual-size': 2 ** 30 });
      expect(await qemuImgInfo(join(instanceDir, 'disk.swap'))).toMatchObject({ 'backing-filename': swapBase, 'virtual-size': 16 * MiB });
      // qemuImgInfo above is the test's own run: take it off the log.
      const lines = (await runs()).filter((line) => !line.startsWith('info -U'));
      expect(lines).toEqual(n === 1 ? [`info --force-share --output=json ${basePath}`, `info --force-share --output=json ${swapBase}`] : []);
    }

    // The image replaced under the same name (qcow2 now): probed again, and refused for its new content.
    await writeFile(`${basePath}.new`, await convertedImage(scratch, randomBytes(MiB), 'qcow2'));
    await rename(`${basePath}.new`, basePath);
    const error = await cache.ensureImage(id, CONTEXT, { disk_format: 'raw', size: null, checksum: null, os_hash_algo: null, os_hash_value: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageUnacceptable);
    expect((error as Error).message).toContain('content is qcow2 but disk_format says raw');
    expect((await runs()).filter((line) => !line.startsWith('info -U') && !line.startsWith('convert'))).toEqual([`info --force-share --output=json ${basePath}`]);
  });
});
