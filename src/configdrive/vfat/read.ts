import type { DriveTree } from '../tree.js';
import { NO_LABEL, decodeBootSector } from './boot-sector.js';
import {
  ATTRIBUTES,
  DELETED_MARK,
  END_MARK,
  ENTRY_SIZE,
  readLongNameFragment,
  readShortEntry,
  shortNameChecksum,
  type DecodedShortEntry,
} from './directory-entry.js';
import { readClusterChain } from './fat.js';
import { MalformedVfatError } from './malformed-image-error.js';
import { MAX_FAT16_CLUSTERS, MIN_FAT16_CLUSTERS, clusterOffset, regionsOf, type VolumeRegions } from './volume-layout.js';

/**
 * Our own FAT16 reader, for operators (`drive ls`, `drive cat`) and for checking our writer. It trusts
 * nothing: every count, offset and chain is checked against the image, and every cluster may belong to
 * one chain only, so a looping or cross-linked FAT ends in a MalformedVfatError, not a hang.
 * Empty directories do not appear in the result (a DriveTree holds files only).
 */

interface NamedEntry {
  name: string;
  entry: DecodedShortEntry;
  where: string;
}

interface PendingLongName {
  checksum: number;
  /** The order number the next fragment must carry (fragments come last part first). */
  nextOrder: number;
  text: string;
}

const MAX_LFN_ENTRIES = 20; // 20 * 13 >= 255

/** The entries of one directory's bytes, long names resolved the way Windows and Linux do it. */
function parseDirectory(bytes: Uint8Array, path: string): { entries: NamedEntry[]; label: string | undefined } {
  const entries: NamedEntry[] = [];
  const names = new Set<string>();
  let label: string | undefined;
  let pending: PendingLongName | undefined;
  for (let offset = 0; offset + ENTRY_SIZE <= bytes.length; offset += ENTRY_SIZE) {
    const first = bytes[offset]!;
    if (first === END_MARK) break;
    if (first === DELETED_MARK) {
      pending = undefined;
      continue;
    }
    const attributes = bytes[offset + 11]!;
    if (attributes === ATTRIBUTES.longName) {
      const fragment = readLongNameFragment(bytes, offset);
      if (fragment.last && fragment.order >= 1 && fragment.order <= MAX_LFN_ENTRIES) {
        pending = { checksum: fragment.checksum, nextOrder: fragment.order - 1, text: fragment.text };
      } else if (pending && fragment.order === pending.nextOrder && fragment.order >= 1 && fragment.checksum === pending.checksum) {
        pending = { ...pending, nextOrder: fragment.order - 1, text: fragment.text + pending.text };
      } else {
        pending = undefined; // an orphaned fragment: readers ignore it and use the short name
      }
      continue;
    }
    const entry = readShortEntry(bytes, offset);
    const longName = pending?.nextOrder === 0 && pending.checksum === shortNameChecksum(entry.shortName) ? pending.text : undefined;
    pending = undefined;
    if (attributes & ATTRIBUTES.volumeLabel) {
      label ??= entry.shortName.trimEnd();
      continue;
    }
    if (entry.shortName === '.          ' || entry.shortName === '..         ') continue;
    const name = longName ?? entry.displayName;
    const where = `entry ${offset / ENTRY_SIZE} of directory "/${path}"`;
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new MalformedVfatError(where, name, 'not a usable file name');
    }
    if (names.has(name)) throw new MalformedVfatError(where, name, 'name appears twice in the directory');
    names.add(name);
    entries.push({ name, entry, where });
  }
  return { entries, label };
}

function checkVolume(image: Uint8Array): { regions: VolumeRegions; bootLabel: string } {
  const boot = decodeBootSector(image);
  const regions = regionsOf(boot);
  const volumeBytes = boot.totalSectors * boot.bytesPerSector;
  if (image.length < volumeBytes) {
    throw new MalformedVfatError('image length', image.length, `the boot sector declares ${boot.totalSectors} sectors (${volumeBytes} bytes)`);
  }
  if (regions.clusterCount < MIN_FAT16_CLUSTERS || regions.clusterCount > MAX_FAT16_CLUSTERS) {
    throw new MalformedVfatError(
      'data cluster count (from the boot sector)',
      regions.clusterCount,
      `FAT16 has ${MIN_FAT16_CLUSTERS}..${MAX_FAT16_CLUSTERS}; other FAT types are not read`,
    );
  }
  if (regions.fatBytes / 2 < regions.clusterCount + 2) {
    throw new MalformedVfatError('boot sector sectors per FAT (offset 22)', boot.sectorsPerFat, `too small for ${regions.clusterCount} clusters`);
  }
  return { regions, bootLabel: boot.volumeLabel };
}

export function readVfat(image: Uint8Array): { label: string; tree: DriveTree } {
  const { regions, bootLabel } = checkVolume(image);
  const fat = image.subarray(regions.fatOffsets[0]!, regions.fatOffsets[0]! + regions.fatBytes);
  const claimed = new Uint8Array(regions.clusterCount + 2);
  const chainBytes = (firstCluster: number, owner: string): Uint8Array[] =>
    readClusterChain(fat, regions.clusterCount, firstCluster, claimed, owner).map((cluster) => {
      const offset = clusterOffset(regions, cluster);
      return image.subarray(offset, offset + regions.clusterBytes);
    });

  const tree = new Map<string, Uint8Array>();
  const root = parseDirectory(image.subarray(regions.rootOffset, regions.rootOffset + regions.rootBytes), '');
  // A list instead of recursion: a hostile image could nest directories deeper than the call stack.
  const pending: { path: string; entries: NamedEntry[] }[] = [{ path: '', entries: root.entries }];
  for (let directory = pending.pop(); directory; directory = pending.pop()) {
    for (const { name, entry, where } of directory.entries) {
      const path = directory.path ? `${directory.path}/${name}` : name;
      if (entry.attributes & ATTRIBUTES.directory) {
        if (entry.firstCluster === 0) throw new MalformedVfatError(`first cluster of directory "/${path}" (${where})`, 0, 'a subdirectory needs a cluster');
        const bytes = Buffer.concat(chainBytes(entry.firstCluster, `directory "/${path}"`));
        pending.push({ path, entries: parseDirectory(bytes, path).entries });
        continue;
      }
      const expectedClusters = Math.ceil(entry.size / regions.clusterBytes);
      const clusters = entry.firstCluster === 0 ? [] : chainBytes(entry.firstCluster, `file "/${path}"`);
      if (clusters.length !== expectedClusters) {
        throw new MalformedVfatError(`cluster chain of file "/${path}" (${where})`, clusters.length, `a ${entry.size}-byte file takes ${expectedClusters} clusters`);
      }
      tree.set(path, Buffer.concat(clusters).subarray(0, entry.size));
    }
  }
  // blkid's order: the root directory's label entry first, the boot sector's copy second.
  const label = root.label ?? (bootLabel === NO_LABEL ? '' : bootLabel.trimEnd());
  return { label, tree: new Map([...tree].sort(([a], [b]) => (a < b ? -1 : 1))) };
}
