import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBootSector } from '../../../src/configdrive/vfat/boot-sector.js';
import { regionsOf } from '../../../src/configdrive/vfat/volume-layout.js';
import { MAX_VOLUME_SECTORS, VfatCapacityError, chooseGeometry, geometryFor } from '../../../src/configdrive/vfat/volume-size.js';
import { makeTempDir, run } from './support.js';

const MiB = 2048; // sectors

test('for sizes mkfs.vfat formats as FAT16, our geometry is the one it picks', async () => {
  // Below 16 MiB mkfs.fat starts at 4 sectors per cluster where Microsoft's table says 2; from 512 MiB it
  // switches to FAT32. In between both agree, so this compares every field there. Past 256 MiB mkfs.fat
  // trims the size to its 63-sector tracks (ours stay whole MiB), hence its sector count as the input.
  const temp = await makeTempDir();
  try {
    for (const mebibytes of [16, 17, 33, 64, 100, 127, 128, 129, 200, 255, 256, 257, 300, 511]) {
      const image = join(temp.path, `${mebibytes}.img`);
      expect((await run('mkfs.vfat', ['-C', image, String(mebibytes * 1024)])).code).toBe(0);
      const file = await open(image);
      const { buffer } = await file.read({ buffer: Buffer.alloc(512), position: 0 });
      await file.close();
      const { bytesPerSector, sectorsPerCluster, reservedSectors, fatCount, rootEntryCount, sectorsPerFat, totalSectors } = decodeBootSector(buffer);
      expect(totalSectors).toBeLessThanOrEqual(mebibytes * MiB);
      expect({ mebibytes, ...geometryFor(totalSectors, 0) }).toEqual({
        mebibytes,
        ...{ bytesPerSector, sectorsPerCluster, reservedSectors, fatCount, rootEntryCount, sectorsPerFat, totalSectors },
      });
    }
  } finally {
    await temp.remove();
  }
});

test('the size is the smallest whole MiB at or above the minimum that holds the content', () => {
  expect(chooseGeometry(1, 0, () => 0).totalSectors).toBe(5 * MiB); // the smallest FAT16 in Microsoft's table
  expect(chooseGeometry(64 * MiB - 7, 0, () => 0).totalSectors).toBe(64 * MiB);
  const capacity64 = regionsOf(geometryFor(64 * MiB, 0)!).clusterCount;
  expect(chooseGeometry(64 * MiB, 0, () => capacity64).totalSectors).toBe(64 * MiB);
  expect(chooseGeometry(64 * MiB, 0, () => capacity64 + 1).totalSectors).toBe(65 * MiB);
  // Past 128 MiB clusters double in size, so the same bytes need half as many of them.
  const bytes = 200 * 1024 * 1024;
  expect(chooseGeometry(64 * MiB, 0, (clusterBytes) => Math.ceil(bytes / clusterBytes)).sectorsPerCluster).toBe(8);
});

test('the root directory grows past 512 entries, in whole clusters, when the root needs it', () => {
  expect(chooseGeometry(64 * MiB, 513, () => 0).rootEntryCount).toBe(576);
  expect(chooseGeometry(64 * MiB, 5000, () => 0).rootEntryCount).toBe(5056);
});

test('content FAT16 cannot hold is a VfatCapacityError naming what it needs', () => {
  expect(geometryFor(MAX_VOLUME_SECTORS + MiB, 0)).toBeUndefined();
  expect(() => chooseGeometry(64 * MiB, 0, (clusterBytes) => Math.ceil(2 ** 31 / clusterBytes))).toThrow(
    new VfatCapacityError(65536, 0, 64 * MiB),
  );
  expect(() => chooseGeometry(64 * MiB, 65530, () => 0)).toThrow(VfatCapacityError);
  expect(() => chooseGeometry(64 * MiB, 65530, () => 0)).toThrow(/65530 root directory entries/);
});
