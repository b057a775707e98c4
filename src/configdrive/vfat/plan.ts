import { toDirectoryTree, type DirectoryNode, type DriveTree } from '../tree.js';
import { ENTRY_SIZE, longNameEntryCount } from './directory-entry.js';
import type { ClusterRun } from './fat.js';
import { InvalidVfatNameError, caseFoldKey, checkLongName } from './long-name.js';
import { ShortNameTable, type ShortName } from './short-name.js';
import { FIRST_DATA_CLUSTER } from './volume-layout.js';

/**
 * The layout plan: which directory entries each directory holds (names decided, independent of the
 * volume size), then, once the cluster size is known, which clusters each file and subdirectory takes.
 */

// Linux (FAT_MAX_DIR_ENTRIES) and Windows stop at 65536 entries in one directory.
const MAX_DIRECTORY_ENTRIES = 65536;

export interface PlannedFile {
  kind: 'file';
  data: Uint8Array;
}

export interface PlannedDirectory {
  kind: 'directory';
  /** '' for the root. */
  path: string;
  entries: PlannedEntry[];
  /** 32-byte entries the directory holds, with "." and ".." (subdirectories) or the volume label (root). */
  slots: number;
}

export interface PlannedEntry {
  /** Undefined when the short name is the name exactly (uppercase 8.3), so no LFN entries are written. */
  longName: string | undefined;
  shortName: ShortName;
  node: PlannedFile | PlannedDirectory;
}

function planDirectory(directory: DirectoryNode, path: string, labelShortName: ShortName | undefined): PlannedDirectory {
  const shortNames = new ShortNameTable();
  if (labelShortName !== undefined) shortNames.reserve(labelShortName);
  const byFoldedName = new Map<string, string>();
  const entries: PlannedEntry[] = [];
  let slots = labelShortName !== undefined ? 1 : 2;
  for (const child of directory.children) {
    const childPath = path ? `${path}/${child.name}` : child.name;
    checkLongName(childPath, child.name);
    const folded = caseFoldKey(child.name);
    const clash = byFoldedName.get(folded);
    if (clash !== undefined) {
      throw new InvalidVfatNameError(childPath, `differs from ${JSON.stringify(clash)} only in case, which FAT does not distinguish`);
    }
    byFoldedName.set(folded, child.name);
    const { shortName, exact } = shortNames.assign(child.name);
    const longName = exact ? undefined : child.name;
    slots += 1 + (longName === undefined ? 0 : longNameEntryCount(longName));
    entries.push({
      longName,
      shortName,
      node: child.kind === 'file' ? { kind: 'file', data: child.data } : planDirectory(child, childPath, undefined),
    });
  }
  if (labelShortName === undefined && slots > MAX_DIRECTORY_ENTRIES) {
    throw new InvalidVfatNameError(path, `directory needs ${slots} entries, FAT directories hold at most ${MAX_DIRECTORY_ENTRIES}`);
  }
  return { kind: 'directory', path, entries, slots };
}

/** Validates and names the whole tree; the root shares its short-name space with the volume label. */
export function planDirectories(tree: DriveTree, labelShortName: ShortName): PlannedDirectory {
  return planDirectory(toDirectoryTree(tree), '', labelShortName);
}

function clustersFor(node: PlannedFile | PlannedDirectory, clusterBytes: number): number {
  const bytes = node.kind === 'file' ? node.data.length : node.slots * ENTRY_SIZE;
  return Math.ceil(bytes / clusterBytes);
}

function* subtree(directory: PlannedDirectory): Generator<PlannedFile | PlannedDirectory> {
  for (const { node } of directory.entries) {
    yield node;
    if (node.kind === 'directory') yield* subtree(node);
  }
}

export function clustersNeeded(root: PlannedDirectory, clusterBytes: number): number {
  let total = 0;
  for (const node of subtree(root)) total += clustersFor(node, clusterBytes);
  return total;
}

/**
 * Contiguous runs in depth-first order (a directory, then its entries in name order), as a fresh `cp -r`
 * would lay them out. The root lives in its fixed region and empty files get no cluster, so neither is here.
 */
export function allocateClusters(root: PlannedDirectory, clusterBytes: number): Map<PlannedFile | PlannedDirectory, ClusterRun> {
  const runs = new Map<PlannedFile | PlannedDirectory, ClusterRun>();
  let next = FIRST_DATA_CLUSTER;
  for (const node of subtree(root)) {
    const clusterCount = clustersFor(node, clusterBytes);
    if (clusterCount === 0) continue;
    runs.set(node, { firstCluster: next, clusterCount });
    next += clusterCount;
  }
  return runs;
}
