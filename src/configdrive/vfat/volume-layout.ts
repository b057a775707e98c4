/** Where a FAT16 volume's regions lie, from the BPB's numbers: reserved sectors, FATs, root directory, data. */
export const SECTOR_SIZE = 512;
export const FIRST_DATA_CLUSTER = 2;
/** FAT16 by the FAT specification's rule: the cluster count alone decides the FAT type. */
export const MIN_FAT16_CLUSTERS = 4085;
export const MAX_FAT16_CLUSTERS = 65524;

export interface VolumeGeometry {
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  rootEntryCount: number;
  sectorsPerFat: number;
  totalSectors: number;
}

export interface VolumeRegions {
  fatOffsets: number[];
  fatBytes: number;
  rootOffset: number;
  rootBytes: number;
  dataOffset: number;
  clusterBytes: number;
  /** Data clusters, numbered from FIRST_DATA_CLUSTER. */
  clusterCount: number;
}

export function regionsOf(geometry: VolumeGeometry): VolumeRegions {
  const { bytesPerSector, sectorsPerCluster, reservedSectors, fatCount, rootEntryCount, sectorsPerFat, totalSectors } = geometry;
  const rootSectors = Math.ceil((rootEntryCount * 32) / bytesPerSector);
  const dataSector = reservedSectors + fatCount * sectorsPerFat + rootSectors;
  return {
    fatOffsets: Array.from({ length: fatCount }, (_, i) => (reservedSectors + i * sectorsPerFat) * bytesPerSector),
    fatBytes: sectorsPerFat * bytesPerSector,
    rootOffset: (reservedSectors + fatCount * sectorsPerFat) * bytesPerSector,
    rootBytes: rootSectors * bytesPerSector,
    dataOffset: dataSector * bytesPerSector,
    clusterBytes: sectorsPerCluster * bytesPerSector,
    clusterCount: Math.floor((totalSectors - dataSector) / sectorsPerCluster),
  };
}

export function clusterOffset(regions: VolumeRegions, cluster: number): number {
  return regions.dataOffset + (cluster - FIRST_DATA_CLUSTER) * regions.clusterBytes;
}
