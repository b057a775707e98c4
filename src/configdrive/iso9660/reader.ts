/**
 * Our own ISO 9660 reader, for operators' `drive ls` / `drive cat`: names from Rock Ridge when the root
 * carries SP, else from the Joliet tree, else the primary identifiers (version and trailing "." dropped).
 * Every offset is checked against the image before it is used, every directory is read once, and the walk is
 * iterative, so a malformed image gives a MalformedIsoError naming the place, never a crash or a loop.
 * Empty directories are not kept (a DriveTree cannot hold them); multi-extent files are refused.
 */
import type { DriveTree } from '../tree.js';
import { systemUseOffset } from './directory-record.js';
import { SECTOR_SIZE } from './encoding.js';
import { MalformedIsoError } from './malformed-iso-error.js';
import { rockRidgeName, suspSkip } from './system-use-reader.js';

const FIRST_DESCRIPTOR_SECTOR = 16;
const ROOT_RECORD_OFFSET = 156;
const JOLIET_ESCAPES = ['%/@', '%/C', '%/E'];
const FLAG_DIRECTORY = 0x02;
const FLAG_MULTI_EXTENT = 0x80;

interface RawRecord {
  /** Image offset of the record. */
  at: number;
  length: number;
  extent: number;
  dataLength: number;
  flags: number;
  identifier: Buffer;
  /** Image offsets of the system use area. */
  systemUseStart: number;
  systemUseEnd: number;
}

/** The record at `at`, which must end by `limit` (its sector's or directory's end). */
function parseRecord(image: Buffer, at: number, limit: number): RawRecord {
  const end = Math.min(limit, image.length);
  const length = at < end ? image[at]! : 0;
  if (length < 34 || at + length > end) {
    throw new MalformedIsoError(at, `directory record length ${length} does not fit (needs 34 bytes, within one sector)`);
  }
  const identifierLength = image[at + 32]!;
  if (33 + identifierLength > length) {
    throw new MalformedIsoError(at, `identifier length ${identifierLength} exceeds the record length ${length}`);
  }
  return {
    at,
    length,
    extent: image.readUInt32LE(at + 2),
    dataLength: image.readUInt32LE(at + 10),
    flags: image[at + 25]!,
    identifier: image.subarray(at + 33, at + 33 + identifierLength),
    systemUseStart: Math.min(at + systemUseOffset(identifierLength), at + length),
    systemUseEnd: at + length,
  };
}

function checkExtent(image: Buffer, record: RawRecord): void {
  if (record.dataLength > 0 && record.extent * SECTOR_SIZE + record.dataLength > image.length) {
    throw new MalformedIsoError(
      record.at,
      `extent at sector ${record.extent} with ${record.dataLength} bytes ends beyond the image (${image.length} bytes)`,
    );
  }
}

interface Descriptors {
  volumeId: string;
  primaryRoot: RawRecord;
  jolietRoot: RawRecord | undefined;
}

function readDescriptors(image: Buffer): Descriptors {
  let primary: number | undefined;
  let joliet: number | undefined;
  for (let sector = FIRST_DESCRIPTOR_SECTOR; ; sector++) {
    const at = sector * SECTOR_SIZE;
    if (at + SECTOR_SIZE > image.length) {
      throw new MalformedIsoError(at, `no volume descriptor set terminator before the end of the image (${image.length} bytes)`);
    }
    const standardId = image.toString('latin1', at + 1, at + 6);
    if (standardId !== 'CD001') {
      throw new MalformedIsoError(at + 1, `volume descriptor standard identifier is ${JSON.stringify(standardId)}, not "CD001"`);
    }
    const type = image[at]!;
    if (type === 255) break;
    if (type === 1) primary ??= at;
    if (type === 2 && JOLIET_ESCAPES.includes(image.toString('latin1', at + 88, at + 91))) joliet ??= at;
  }
  if (primary === undefined) throw new MalformedIsoError(FIRST_DESCRIPTOR_SECTOR * SECTOR_SIZE, 'no primary volume descriptor');
  const blockSize = image.readUInt16LE(primary + 128);
  if (blockSize !== SECTOR_SIZE) {
    throw new MalformedIsoError(primary + 128, `logical block size is ${blockSize}; only ${SECTOR_SIZE} is supported`);
  }
  const root = (descriptor: number): RawRecord => {
    const record = parseRecord(image, descriptor + ROOT_RECORD_OFFSET, descriptor + ROOT_RECORD_OFFSET + 34);
    checkExtent(image, record);
    return record;
  };
  return {
    volumeId: image.toString('latin1', primary + 40, primary + 72).trimEnd(),
    primaryRoot: root(primary),
    jolietRoot: joliet === undefined ? undefined : root(joliet),
  };
}

type NameSource = (record: RawRecord) => string;

const withoutVersion = (identifier: string): string => identifier.replace(/;\d*$/, '');

function primaryName(record: RawRecord): string {
  const name = withoutVersion(record.identifier.toString('latin1'));
  return record.flags & FLAG_DIRECTORY ? name : name.replace(/\.$/, '');
}

function jolietName(record: RawRecord): string {
  if (record.identifier.length % 2 !== 0) {
    throw new MalformedIsoError(record.at + 33, `Joliet identifier has an odd length (${record.identifier.length})`);
  }
  return withoutVersion(Buffer.from(record.identifier).swap16().toString('utf16le'));
}

/** Rock Ridge names when the primary root's "." record opens with SP (SUSP 5.3). */
function rockRidgeNames(image: Buffer, primaryRoot: RawRecord): NameSource | undefined {
  const rootStart = primaryRoot.extent * SECTOR_SIZE;
  const self = parseRecord(image, rootStart, rootStart + Math.min(SECTOR_SIZE, primaryRoot.dataLength));
  const skip = suspSkip(image, self.systemUseStart, self.systemUseEnd);
  if (skip === undefined) return undefined;
  return (record) => rockRidgeName(image, record.systemUseStart + skip, record.systemUseEnd) ?? primaryName(record);
}

function checkName(name: string, record: RawRecord): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new MalformedIsoError(record.at, `invalid file name ${JSON.stringify(name)}`);
  }
}

function readTree(image: Buffer, root: RawRecord, nameOf: NameSource): DriveTree {
  const files = new Map<string, Uint8Array>();
  const seenPaths = new Set<string>();
  const seenExtents = new Set<number>();
  const pending: { record: RawRecord; path: string }[] = [{ record: root, path: '' }];

  for (let next = pending.pop(); next; next = pending.pop()) {
    const { record: directory, path } = next;
    if (seenExtents.has(directory.extent)) {
      throw new MalformedIsoError(directory.at, `directory ${JSON.stringify(path || '/')} reuses the extent at sector ${directory.extent} of another directory`);
    }
    seenExtents.add(directory.extent);

    const start = directory.extent * SECTOR_SIZE;
    for (let at = start; at < start + directory.dataLength; ) {
      const sectorEnd = (Math.floor(at / SECTOR_SIZE) + 1) * SECTOR_SIZE;
      if (image[at] === 0) {
        at = sectorEnd; // the rest of the sector is padding
        continue;
      }
      const record = parseRecord(image, at, Math.min(sectorEnd, start + directory.dataLength));
      at += record.length;
      const isSelfOrParent = record.identifier.length === 1 && record.identifier[0]! <= 1;
      if (isSelfOrParent) continue;
      if (record.flags & FLAG_MULTI_EXTENT) throw new MalformedIsoError(record.at, 'multi-extent files are not supported');
      checkExtent(image, record);

      const name = nameOf(record);
      checkName(name, record);
      const childPath = path ? `${path}/${name}` : name;
      if (seenPaths.has(childPath)) throw new MalformedIsoError(record.at, `${JSON.stringify(childPath)} appears twice`);
      seenPaths.add(childPath);

      if (record.flags & FLAG_DIRECTORY) {
        pending.push({ record, path: childPath });
      } else {
        const dataStart = record.extent * SECTOR_SIZE;
        // A copy: the tree must not change when the caller reuses the image buffer.
        files.set(childPath, Buffer.from(image.subarray(dataStart, dataStart + record.dataLength)));
      }
    }
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function readIso(image: Uint8Array): { volumeId: string; tree: DriveTree } {
  const view = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const descriptors = readDescriptors(view);
  const rockRidge = rockRidgeNames(view, descriptors.primaryRoot);
  const [root, nameOf]: [RawRecord, NameSource] = rockRidge
    ? [descriptors.primaryRoot, rockRidge]
    : descriptors.jolietRoot
      ? [descriptors.jolietRoot, jolietName]
      : [descriptors.primaryRoot, primaryName];
  return { volumeId: descriptors.volumeId, tree: readTree(view, root, nameOf) };
}
