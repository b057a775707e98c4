import { MAX_FAT16_CLUSTERS, MIN_FAT16_CLUSTERS, SECTOR_SIZE, regionsOf, type VolumeGeometry } from './volume-layout.js';

/**
 * Picks the volume's size and geometry. Sizes are whole MiB (so every cluster size and mkfs.fat's 32-sector
 * track divide them); the image is the smallest such size, at least the caller's minimum, whose FAT16 layout
 * holds the content. Within one size the layout is what `mkfs.vfat` gives: Microsoft's FAT16 cluster-size
 * table, 2 FATs, 512 root entries (more only if the root needs them), and every region aligned to the
 * cluster size, which is why a 64 MiB volume has 4 reserved sectors. (Under 16 MiB, reachable only with a
 * small minimumSize, mkfs.fat would take 4 sectors per cluster where the table says 2; we follow the table.)
 */
const SIZE_STEP_SECTORS = (1024 * 1024) / SECTOR_SIZE;
/** FAT16 ends at 64-sector (32 KiB) clusters; 2 GiB itself would hold too many of them. */
export const MAX_VOLUME_SECTORS = 4 * 1024 * 1024 - SIZE_STEP_SECTORS;
const FAT_COUNT = 2;
const DEFAULT_ROOT_ENTRIES = 512;
const ENTRIES_PER_SECTOR = SECTOR_SIZE / 32;

export class VfatCapacityError extends Error {
  override readonly name = 'VfatCapacityError';
  constructor(readonly clustersNeeded: number, readonly rootEntriesNeeded: number, readonly minimumSectors: number) {
    super(
      `config drive content does not fit a FAT16 volume between ${minimumSectors * SECTOR_SIZE} and ` +
        `${MAX_VOLUME_SECTORS * SECTOR_SIZE} bytes (it needs ${clustersNeeded} clusters of 32 KiB and ` +
        `${rootEntriesNeeded} root directory entries)`,
    );
  }
}

/** Microsoft's FAT16 table (fatgen103, "DskTableFAT16"): sectors per cluster by volume size in sectors. */
export function sectorsPerClusterFor(totalSectors: number): number | undefined {
  if (totalSectors <= 8400) return undefined;
  if (totalSectors <= 32680) return 2;
  if (totalSectors <= 262144) return 4;
  if (totalSectors <= 524288) return 8;
  if (totalSectors <= 1048576) return 16;
  if (totalSectors <= 2097152) return 32;
  if (totalSectors <= 4194304) return 64;
  return undefined;
}

function alignUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** The mkfs.vfat-like geometry for one size, or undefined when that size cannot be FAT16 with these root entries. */
export function geometryFor(totalSectors: number, rootEntriesNeeded: number): VolumeGeometry | undefined {
  const sectorsPerCluster = sectorsPerClusterFor(totalSectors);
  if (sectorsPerCluster === undefined) return undefined;
  const reservedSectors = sectorsPerCluster;
  const rootSectors = alignUp(Math.max(DEFAULT_ROOT_ENTRIES, rootEntriesNeeded) / ENTRIES_PER_SECTOR, sectorsPerCluster);
  const rootEntryCount = rootSectors * ENTRIES_PER_SECTOR;
  if (rootEntryCount > 0xffff) return undefined;
  const fatsAndData = totalSectors - reservedSectors - rootSectors;
  // An upper bound on the cluster count (mkfs.fat's estimate), so the FAT surely has an entry for each.
  const estimate = Math.floor((fatsAndData * SECTOR_SIZE + FAT_COUNT * 4) / (sectorsPerCluster * SECTOR_SIZE + FAT_COUNT * 2));
  const sectorsPerFat = alignUp(Math.ceil(((estimate + 2) * 2) / SECTOR_SIZE), sectorsPerCluster);
  const geometry: VolumeGeometry = {
    bytesPerSector: SECTOR_SIZE,
    sectorsPerCluster,
    reservedSectors,
    fatCount: FAT_COUNT,
    rootEntryCount,
    sectorsPerFat,
    totalSectors,
  };
  const { clusterCount } = regionsOf(geometry);
  return clusterCount >= MIN_FAT16_CLUSTERS && clusterCount <= MAX_FAT16_CLUSTERS ? geometry : undefined;
}

/**
 * `clustersNeeded` says how many data clusters the content takes at a given cluster size (files and
 * subdirectories round up to whole clusters, so it depends on the size).
 */
export function chooseGeometry(
  minimumSectors: number,
  rootEntriesNeeded: number,
  clustersNeeded: (clusterBytes: number) => number,
): VolumeGeometry {
  const needed = new Map<number, number>();
  const neededAt = (clusterBytes: number): number => {
    let count = needed.get(clusterBytes);
    if (count === undefined) needed.set(clusterBytes, (count = clustersNeeded(clusterBytes)));
    return count;
  };
  for (let totalSectors = alignUp(minimumSectors, SIZE_STEP_SECTORS); totalSectors <= MAX_VOLUME_SECTORS; totalSectors += SIZE_STEP_SECTORS) {
    const geometry = geometryFor(totalSectors, rootEntriesNeeded);
    if (geometry && regionsOf(geometry).clusterCount >= neededAt(geometry.sectorsPerCluster * SECTOR_SIZE)) return geometry;
  }
  throw new VfatCapacityError(neededAt(64 * SECTOR_SIZE), rootEntriesNeeded, minimumSectors);
}
