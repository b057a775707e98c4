import type { DiskImage } from '../../disk-image.js';
import type { DriveTree } from '../tree.js';
import { MEDIA_FIXED_DISK, encodeBootSector } from './boot-sector.js';
import { ATTRIBUTES, ENTRY_SIZE, shortNameChecksum, writeLongNameEntries, writeShortEntry } from './directory-entry.js';
import { encodeFat, type ClusterRun } from './fat.js';
import { toFatTimestamp, type FatTimestamp } from './fat-time.js';
import { checkVfatOptions, type VfatOptions } from './options.js';
import { allocateClusters, clustersNeeded, planDirectories, type PlannedDirectory, type PlannedFile } from './plan.js';
import { clusterOffset, regionsOf } from './volume-layout.js';
import { chooseGeometry } from './volume-size.js';

type Allocation = Map<PlannedFile | PlannedDirectory, ClusterRun>;

const DOT = '.'.padEnd(11, ' ');
const DOT_DOT = '..'.padEnd(11, ' ');

/** CHS geometry is unused by LBA readers; these are mkfs.fat's values (SD card recommendation) for disks up to 256 MiB. */
function headsFor(totalSectors: number): number {
  return totalSectors <= 32768 ? 2 : totalSectors <= 65536 ? 4 : totalSectors <= 262144 ? 8 : 16;
}

function encodeDirectory(
  directory: PlannedDirectory,
  allocation: Allocation,
  stamp: FatTimestamp,
  header: { label: string } | { parentCluster: number },
): Uint8Array {
  const bytes = new Uint8Array(directory.slots * ENTRY_SIZE);
  let offset = 0;
  const shortEntry = (shortName: string, attributes: number, firstCluster: number, size: number): void => {
    writeShortEntry(bytes, offset, { shortName, attributes, firstCluster, size }, stamp);
    offset += ENTRY_SIZE;
  };
  if ('label' in header) {
    shortEntry(header.label, ATTRIBUTES.volumeLabel, 0, 0);
  } else {
    shortEntry(DOT, ATTRIBUTES.directory, allocation.get(directory)!.firstCluster, 0);
    shortEntry(DOT_DOT, ATTRIBUTES.directory, header.parentCluster, 0);
  }
  for (const { longName, shortName, node } of directory.entries) {
    if (longName !== undefined) offset = writeLongNameEntries(bytes, offset, longName, shortNameChecksum(shortName));
    const firstCluster = allocation.get(node)?.firstCluster ?? 0;
    if (node.kind === 'file') shortEntry(shortName, ATTRIBUTES.archive, firstCluster, node.data.length);
    else shortEntry(shortName, ATTRIBUTES.directory, firstCluster, 0);
  }
  return bytes;
}

/**
 * A FAT16 "superfloppy" (no partition table) holding `tree`, as Nova's `mkfs -t vfat -n config-2` plus
 * a copy would, returned sparse: boot sector, both FATs, root directory and the used clusters only.
 * File extents share memory with the tree's bytes instead of copying them.
 */
export function buildVfat(tree: DriveTree, options: VfatOptions): DiskImage {
  const { label, recordedAt, minimumSectors, volumeSerial } = checkVfatOptions(options);
  const stamp = toFatTimestamp(recordedAt);
  const root = planDirectories(tree, label);
  const geometry = chooseGeometry(minimumSectors, root.slots, (clusterBytes) => clustersNeeded(root, clusterBytes));
  const regions = regionsOf(geometry);
  const allocation = allocateClusters(root, regions.clusterBytes);

  const bootSector = encodeBootSector({
    ...geometry,
    media: MEDIA_FIXED_DISK,
    sectorsPerTrack: 32,
    heads: headsFor(geometry.totalSectors),
    hiddenSectors: 0,
    volumeSerial,
    volumeLabel: label,
    fileSystemType: 'FAT16   ',
  });
  const fat = encodeFat(MEDIA_FIXED_DISK, [...allocation.values()]);
  const extents: DiskImage['extents'] = [
    { offset: 0, bytes: bootSector },
    ...regions.fatOffsets.map((offset) => ({ offset, bytes: fat })),
    { offset: regions.rootOffset, bytes: encodeDirectory(root, allocation, stamp, { label }) },
  ];
  const addClusterExtents = (directory: PlannedDirectory, parentCluster: number): void => {
    for (const { node } of directory.entries) {
      const run = allocation.get(node);
      if (!run) continue;
      const offset = clusterOffset(regions, run.firstCluster);
      if (node.kind === 'file') {
        extents.push({ offset, bytes: node.data });
      } else {
        extents.push({ offset, bytes: encodeDirectory(node, allocation, stamp, { parentCluster }) });
        addClusterExtents(node, run.firstCluster);
      }
    }
  };
  // ".." in a child of the root holds cluster 0: the root has no cluster.
  addClusterExtents(root, 0);
  extents.sort((a, b) => a.offset - b.offset);
  return { size: geometry.totalSectors * geometry.bytesPerSector, extents };
}
