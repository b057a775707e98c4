import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidDiskImageError, toBuffer, writeDiskImage, type DiskImage } from '../src/disk-image.js';

const MiB = 1024 * 1024;
const image: DiskImage = {
  size: 64 * MiB,
  extents: [
    { offset: 0, bytes: Uint8Array.of(1, 2, 3) },
    { offset: 5, bytes: Uint8Array.of(4) },
    { offset: 64 * MiB - 2, bytes: Uint8Array.of(5, 6) },
  ],
};

test('toBuffer places the extents and leaves zeros between them', () => {
  const small = toBuffer({ size: 8, extents: [{ offset: 1, bytes: Uint8Array.of(9, 8) }, { offset: 7, bytes: Uint8Array.of(7) }] });
  expect([...small]).toEqual([0, 9, 8, 0, 0, 0, 0, 7]);
});

test.each([
  [{ size: -1, extents: [] }, /size = -1: must be a non-negative integer/],
  [{ size: 8, extents: [{ offset: 2, bytes: new Uint8Array(2) }, { offset: 3, bytes: new Uint8Array(1) }] }, /extents\[1\]\.offset = 3: must be an integer >= 4 \(sorted, non-overlapping\)/],
  [{ size: 8, extents: [{ offset: 4, bytes: new Uint8Array(1) }, { offset: 0, bytes: new Uint8Array(1) }] }, /extents\[1\]\.offset = 0/],
  [{ size: 8, extents: [{ offset: 6, bytes: new Uint8Array(3) }] }, /extents\[0\]\.offset = 6: its 3 bytes end past the image size 8/],
])('a malformed image is an InvalidDiskImageError naming the field: %#', (bad, message) => {
  expect(() => toBuffer(bad)).toThrow(InvalidDiskImageError);
  expect(() => toBuffer(bad)).toThrow(message);
});

describe('writeDiskImage', () => {
  let temp: string;
  beforeEach(async () => {
    temp = await mkdtemp(join(tmpdir(), 'disk-image-test-'));
  });
  afterEach(() => rm(temp, { recursive: true, force: true }));

  test('writes the full size sparsely, with the same bytes as toBuffer', async () => {
    const path = join(temp, 'disk.config');
    await writeDiskImage(path, image, { exclusive: true });
    const { size, blocks } = await stat(path);
    expect(size).toBe(64 * MiB);
    expect(blocks * 512).toBeLessThanOrEqual(64 * 1024);
    expect((await readFile(path)).equals(toBuffer(image))).toBe(true);
  });

  test('never overwrites an existing file', async () => {
    const path = join(temp, 'disk.config');
    await writeFile(path, 'previous drive');
    await expect(writeDiskImage(path, image, { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('previous drive');
  });

  test('a malformed image fails before any file is created', async () => {
    const path = join(temp, 'disk.config');
    await expect(writeDiskImage(path, { size: 1, extents: [{ offset: 0, bytes: new Uint8Array(2) }] }, { exclusive: true })).rejects.toThrow(InvalidDiskImageError);
    await expect(access(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('exclusive is the only mode', async () => {
    const path = join(temp, 'disk.config');
    const options = { exclusive: false } as unknown as { exclusive: true };
    await expect(writeDiskImage(path, image, options)).rejects.toThrow(/options\.exclusive = false: must be true/);
  });
});
