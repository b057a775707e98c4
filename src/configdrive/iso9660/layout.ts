/**
 * The planning step: every sector of the image is decided here, before a byte is written (as go-diskfs's
 * finalize.go does). The image is laid out as
 *
 *   0-15 system area | 16 PVD | 17 Joliet SVD | 18 terminator
 *   | path tables: primary L, primary M, Joliet L, Joliet M
 *   | primary directories | Joliet directories (each in path table order)
 *   | Rock Ridge continuation areas | file data (primary tree order) | zero padding to 4 KiB
 *
 * Both trees point at the same file extents, and so do files whose data is the same bytes object (a config
 * drive holds one user_data, vendor_data and network_data in every version directory: stored once, as
 * hard links are; every reader follows a record to its extent and no further). Empty files get extent 0 and
 * take no sector (genisoimage points them at whatever sector comes next; readers ignore the extent of an
 * empty file).
 */
import type { DirectoryNode, FileNode } from '../tree.js';
import { PARENT_IDENTIFIER, recordLength, SELF_IDENTIFIER } from './directory-record.js';
import { SECTOR_SIZE, sectorsFor, ucs2be } from './encoding.js';
import { jolietIdentifiers, primaryIdentifiers } from './names.js';
import { pathTableSize, type PathTableEntry } from './path-table.js';
import { systemUseSize, type ContinuationArea, type RockRidgeRecord } from './rock-ridge.js';

/** ECMA-119 6.8.2.1: at most 8 directory levels, the root being level 1. */
export const MAX_DIRECTORY_LEVEL = 8;
/** Linux (NAME_MAX) cannot handle longer Rock Ridge names. */
export const MAX_NAME_BYTES = 255;
/** Path table parent numbers are 16 bits. */
export const MAX_DIRECTORIES = 0xffff;

export const DESCRIPTOR_SECTORS = { primary: 16, joliet: 17, terminator: 18 } as const;
const FIRST_FREE_SECTOR = DESCRIPTOR_SECTORS.terminator + 1;
/** Images end on a 4 KiB boundary for 4k-sector storage. */
const IMAGE_ALIGNMENT_SECTORS = 2;

export class UnsupportedDriveTreeError extends Error {
  override readonly name = 'UnsupportedDriveTreeError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`config drive path ${JSON.stringify(path)} cannot be written as ISO 9660: ${reason}`);
  }
}

export interface PlannedFile {
  kind: 'file';
  data: Uint8Array;
  /** 0 for an empty file. */
  extent: number;
}

export interface PlannedRecord {
  identifier: Uint8Array;
  length: number;
  /** Byte offset inside its directory's extent; a record never crosses a sector boundary. */
  offset: number;
  target: PlannedDirectory | PlannedFile;
  /** Primary tree only. */
  rockRidge: { record: RockRidgeRecord; continuation: ContinuationArea | undefined } | undefined;
}

export interface PlannedDirectory {
  kind: 'directory';
  extent: number;
  /** Bytes, a multiple of the sector size. */
  size: number;
  /** "." and ".." first, then the children in identifier order. */
  records: PlannedRecord[];
}

export interface PlannedTree {
  /** In path table order; the root first. */
  directories: PlannedDirectory[];
  pathTable: PathTableEntry[];
  pathTableSize: number;
  pathTableL: number;
  pathTableM: number;
}

export interface IsoLayout {
  primary: PlannedTree;
  joliet: PlannedTree;
  /** Each once, in the order of their extents. */
  files: PlannedFile[];
  /** Including the padding to 4 KiB. */
  totalSectors: number;
}

type Node = FileNode | DirectoryNode;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Rejects what no ISO 9660 reader could give back: too deep, names too long or not valid Unicode, too many directories. */
function checkTree(root: DirectoryNode): void {
  let directories = 0;
  const visit = (directory: DirectoryNode, path: string, level: number): void => {
    if (level > MAX_DIRECTORY_LEVEL) {
      throw new UnsupportedDriveTreeError(
        path,
        `directory is at level ${level}; ISO 9660 allows ${MAX_DIRECTORY_LEVEL} (the root is level 1)`,
      );
    }
    if (++directories > MAX_DIRECTORIES) {
      throw new UnsupportedDriveTreeError(path, `more than ${MAX_DIRECTORIES} directories`);
    }
    for (const child of directory.children) {
      const childPath = path ? `${path}/${child.name}` : child.name;
      if (LONE_SURROGATE.test(child.name)) throw new UnsupportedDriveTreeError(childPath, 'name is not valid Unicode');
      const bytes = Buffer.byteLength(child.name, 'utf8');
      if (bytes > MAX_NAME_BYTES) {
        throw new UnsupportedDriveTreeError(childPath, `name is ${bytes} bytes in UTF-8; at most ${MAX_NAME_BYTES}`);
      }
      if (child.kind === 'directory') visit(child, childPath, level + 1);
    }
  };
  visit(root, '', 1);
}

interface TreeFlavor {
  /** Sibling identifiers (sortable strings: byte order of the encoded form), in `children` order. */
  identifiers(children: readonly Node[]): string[];
  encode(identifier: string, node: Node): Uint8Array;
  rockRidge: boolean;
}

const PRIMARY: TreeFlavor = {
  identifiers: primaryIdentifiers,
  encode: (identifier, node) => Buffer.from(node.kind === 'file' ? `${identifier};1` : identifier, 'latin1'),
  rockRidge: true,
};

const JOLIET: TreeFlavor = {
  identifiers: jolietIdentifiers,
  encode: (identifier) => ucs2be(identifier),
  rockRidge: false,
};

const subdirectoryCount = (node: DirectoryNode): number => node.children.filter((c) => c.kind === 'directory').length;

/** The Rock Ridge view of `node`; `name` is undefined for "." and "..". */
function rockRidgeOf(node: Node, name: string | undefined, isRootSelf: boolean): RockRidgeRecord {
  return {
    name: name === undefined ? undefined : Buffer.from(name, 'utf8'),
    isDirectory: node.kind === 'directory',
    links: node.kind === 'directory' ? 2 + subdirectoryCount(node) : 1,
    isRootSelf,
  };
}

function makeRecord(
  flavor: TreeFlavor,
  identifier: Uint8Array,
  target: PlannedDirectory | PlannedFile,
  rockRidge: () => RockRidgeRecord,
): PlannedRecord {
  if (!flavor.rockRidge) {
    return { identifier, length: recordLength(identifier.length, 0), offset: 0, target, rockRidge: undefined };
  }
  const record = rockRidge();
  const size = systemUseSize(record, identifier.length);
  return {
    identifier,
    length: recordLength(identifier.length, size.inline),
    offset: 0,
    target,
    rockRidge: {
      record,
      continuation: size.continuation ? { sector: 0, offset: 0, length: size.continuation } : undefined,
    },
  };
}

/** Where `length` bytes go at or after byte `at` without crossing a sector boundary. */
function placeInSector(at: number, length: number): number {
  return (at % SECTOR_SIZE) + length > SECTOR_SIZE ? sectorsFor(at) * SECTOR_SIZE : at;
}

/** Packs the records, none crossing a sector boundary; returns the directory's size in bytes. */
function placeRecords(records: PlannedRecord[]): number {
  let at = 0;
  for (const record of records) {
    record.offset = placeInSector(at, record.length);
    at = record.offset + record.length;
  }
  return sectorsFor(at) * SECTOR_SIZE;
}

/**
 * One tree's directories and records, in path table order; extents are filled in later. `files` (by data) is
 * shared by both trees so that their records point at the same PlannedFile.
 */
function planTree(root: DirectoryNode, flavor: TreeFlavor, files: Map<Uint8Array, PlannedFile>): PlannedTree {
  const newDirectory = (): PlannedDirectory => ({ kind: 'directory', extent: 0, size: 0, records: [] });
  const directories = [newDirectory()];
  const nodes = [root];
  const parents = [0];
  const pathTable: PathTableEntry[] = [{ identifier: SELF_IDENTIFIER, extent: 0, parentNumber: 1 }];

  // Breadth first with children in identifier order: exactly the path table order.
  for (let index = 0; index < nodes.length; index++) {
    const node = nodes[index]!;
    const directory = directories[index]!;
    const parentNode = nodes[parents[index]!]!;
    const records = [
      makeRecord(flavor, SELF_IDENTIFIER, directory, () => rockRidgeOf(node, undefined, index === 0)),
      makeRecord(flavor, PARENT_IDENTIFIER, directories[parents[index]!]!, () => rockRidgeOf(parentNode, undefined, false)),
    ];

    const identifiers = flavor.identifiers(node.children);
    const order = node.children.map((_, i) => i).sort((a, b) => (identifiers[a]! < identifiers[b]! ? -1 : 1));
    for (const i of order) {
      const child = node.children[i]!;
      const identifier = flavor.encode(identifiers[i]!, child);
      const rockRidge = (): RockRidgeRecord => rockRidgeOf(child, child.name, false);
      if (child.kind === 'file') {
        let file = files.get(child.data);
        if (!file) files.set(child.data, (file = { kind: 'file', data: child.data, extent: 0 }));
        records.push(makeRecord(flavor, identifier, file, rockRidge));
        continue;
      }
      const subdirectory = newDirectory();
      records.push(makeRecord(flavor, identifier, subdirectory, rockRidge));
      directories.push(subdirectory);
      nodes.push(child);
      parents.push(index);
      pathTable.push({ identifier, extent: 0, parentNumber: index + 1 });
    }
    directory.records = records;
    directory.size = placeRecords(records);
  }
  return { directories, pathTable, pathTableSize: pathTableSize(pathTable), pathTableL: 0, pathTableM: 0 };
}

/** Plans every extent of the image of `root`. Pure: the same tree gives the same layout. */
export function planLayout(root: DirectoryNode): IsoLayout {
  checkTree(root);
  const files = new Map<Uint8Array, PlannedFile>();
  const primary = planTree(root, PRIMARY, files);
  const joliet = planTree(root, JOLIET, files);
  let next = FIRST_FREE_SECTOR;

  for (const tree of [primary, joliet]) {
    tree.pathTableL = next;
    next += sectorsFor(tree.pathTableSize);
    tree.pathTableM = next;
    next += sectorsFor(tree.pathTableSize);
  }
  for (const tree of [primary, joliet]) {
    tree.directories.forEach((directory, index) => {
      directory.extent = next;
      tree.pathTable[index]!.extent = next;
      next += directory.size / SECTOR_SIZE;
    });
  }

  // Continuation areas are packed, each inside one sector (Linux refuses one that crosses).
  let continuationAt = next * SECTOR_SIZE;
  for (const directory of primary.directories) {
    for (const { rockRidge } of directory.records) {
      const area = rockRidge?.continuation;
      if (!area) continue;
      continuationAt = placeInSector(continuationAt, area.length);
      area.sector = Math.floor(continuationAt / SECTOR_SIZE);
      area.offset = continuationAt % SECTOR_SIZE;
      continuationAt += area.length;
    }
  }
  next = sectorsFor(continuationAt);

  const orderedFiles = new Set<PlannedFile>();
  for (const directory of primary.directories) {
    for (const { target } of directory.records) {
      if (target.kind !== 'file' || orderedFiles.has(target)) continue;
      orderedFiles.add(target);
      if (target.data.length === 0) continue;
      target.extent = next;
      next += sectorsFor(target.data.length);
    }
  }

  const totalSectors = Math.ceil(next / IMAGE_ALIGNMENT_SECTORS) * IMAGE_ALIGNMENT_SECTORS;
  return { primary, joliet, files: [...orderedFiles], totalSectors };
}
