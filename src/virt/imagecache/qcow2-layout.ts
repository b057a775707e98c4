/**
 * The qcow2 overlay that qemu-img 7.2 writes for `qemu-img create -f qcow2 -o backing_file=B,backing_fmt=F
 * [,cluster_size=C] T SIZE`, laid out byte for byte without running qemu (block/qcow2.c: qcow2_co_create
 * writes the header and a one-block refcount structure, truncate grows the L1 table to the size,
 * change_backing_file rewrites the header with the backing file). Nothing else is allocated: every guest
 * read falls through to the backing file until the guest writes.
 *
 *   cluster 0   header, header extensions, backing file name
 *   cluster 1   refcount table: one entry, the block in cluster 2
 *   cluster 2   refcount block: 1 for each cluster in use (0 .. 3 + L1 clusters - 1)
 *   cluster 3.. L1 table, all zero (no L2 table yet); the file ends with it
 */
import type { DiskImage } from '../../disk-image.js';

/** What the overlay is over and how large the guest sees it. */
export interface Qcow2OverlaySpec {
  /** Stored as given: qemu opens a relative name relative to the overlay's directory. */
  backingFile: string;
  /** The backing file's probed format (raw, qcow2), so qemu never guesses it at boot. */
  backingFormat: string;
  /** Bytes; qemu-img rounds it up to whole 512-byte sectors. */
  virtualSize: number;
  /** Bytes, a power of two from 512 to 2 MiB; null for qemu's default, 64 KiB. */
  clusterSize: number | null;
}

const QCOW_MAGIC = 0x514649fb;
const VERSION = 3;
const SECTOR = 512;
const DEFAULT_CLUSTER_SIZE = 65536;
const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;
/** 16-bit refcounts, qemu's default refcount_bits. */
const REFCOUNT_ORDER = 4;
/** The v3 header through compression_type (1 byte, zlib = 0), padded to a multiple of 8 as qemu writes it. */
const HEADER_LENGTH = 112;
/** qcow2_change_backing_file refuses longer names. */
const MAX_BACKING_FILE_BYTES = 1023;
/** BlockDriverState.backing_format is char[16]: a longer name would be cut short. */
const MAX_BACKING_FORMAT_BYTES = 15;
/** QCOW_MAX_L1_SIZE: qemu refuses a larger L1 table. */
const MAX_L1_BYTES = 32 * 2 ** 20;
const L1_ENTRY_BYTES = 8;

const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_FEATURE_TABLE = 0x6803f857;
const EXT_END = 0;

/** [type (0 incompatible, 1 compatible, 2 autoclear), bit, name]: qemu 7.2's feature name table, in its order. */
const FEATURE_NAMES: readonly [number, number, string][] = [
  [0, 0, 'dirty bit'],
  [0, 1, 'corrupt bit'],
  [0, 2, 'external data file'],
  [0, 3, 'compression type'],
  [0, 4, 'extended L2 entries'],
  [1, 0, 'lazy refcounts'],
  [2, 0, 'bitmaps'],
  [2, 1, 'raw external data'],
];
const FEATURE_NAME_BYTES = 46;
/** qemu leaves the table out for clusters of 4 KiB and less, to leave room for a backing file name. */
const FEATURE_TABLE_OMITTED_UP_TO = 4096;

/** A header extension: magic, length, data padded to 8 bytes. */
function headerExtension(magic: number, data: Buffer): Buffer {
  const extension = Buffer.alloc(8 + Math.ceil(data.length / 8) * 8);
  extension.writeUInt32BE(magic, 0);
  extension.writeUInt32BE(data.length, 4);
  data.copy(extension, 8);
  return extension;
}

function featureNameTable(): Buffer {
  const table = Buffer.alloc(FEATURE_NAMES.length * (2 + FEATURE_NAME_BYTES));
  FEATURE_NAMES.forEach(([type, bit, name], index) => {
    const offset = index * (2 + FEATURE_NAME_BYTES);
    table[offset] = type;
    table[offset + 1] = bit;
    table.write(name, offset + 2, 'latin1');
  });
  return table;
}

function clusterBitsOf(clusterSize: number): number | null {
  const bits = Math.log2(clusterSize);
  return Number.isInteger(bits) && bits >= MIN_CLUSTER_BITS && bits <= MAX_CLUSTER_BITS ? bits : null;
}

/**
 * The overlay's bytes, or null where qemu-img would lay the file out differently or refuse it: metadata
 * past what the first refcount block counts (small clusters under large disks, where qemu places further
 * refcount blocks as it goes), an L1 table over 32 MiB, a header that does not fit its cluster, a cluster
 * size qemu does not accept. The caller then leaves the file to qemu-img itself.
 */
export function qcow2OverlayLayout(spec: Qcow2OverlaySpec): DiskImage | null {
  const clusterSize = spec.clusterSize ?? DEFAULT_CLUSTER_SIZE;
  const clusterBits = clusterBitsOf(clusterSize);
  const backingFile = Buffer.from(spec.backingFile, 'utf8');
  const backingFormat = Buffer.from(spec.backingFormat, 'utf8');
  if (clusterBits === null || !Number.isSafeInteger(spec.virtualSize) || spec.virtualSize < 0) return null;
  if (backingFile.length === 0 || backingFile.length > MAX_BACKING_FILE_BYTES || backingFile.includes(0)) return null;
  if (backingFormat.length === 0 || backingFormat.length > MAX_BACKING_FORMAT_BYTES || backingFormat.includes(0)) return null;

  const virtualSize = Math.ceil(spec.virtualSize / SECTOR) * SECTOR;
  // One L2 table (a cluster of 8-byte entries) maps clusterSize / 8 clusters.
  const l1Entries = Math.ceil(virtualSize / ((clusterSize / L1_ENTRY_BYTES) * clusterSize));
  const l1Bytes = l1Entries * L1_ENTRY_BYTES;
  const l1Clusters = Math.ceil(l1Bytes / clusterSize);
  const clustersInUse = 3 + l1Clusters;
  const refcountsPerBlock = (clusterSize * 8) / 2 ** REFCOUNT_ORDER;
  if (l1Bytes > MAX_L1_BYTES || clustersInUse > refcountsPerBlock) return null;

  const extensions = Buffer.concat([
    headerExtension(EXT_BACKING_FORMAT, backingFormat),
    ...(clusterSize > FEATURE_TABLE_OMITTED_UP_TO ? [headerExtension(EXT_FEATURE_TABLE, featureNameTable())] : []),
    headerExtension(EXT_END, Buffer.alloc(0)),
  ]);
  const backingFileOffset = HEADER_LENGTH + extensions.length;
  if (backingFileOffset + backingFile.length > clusterSize) return null;

  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt32BE(QCOW_MAGIC, 0);
  header.writeUInt32BE(VERSION, 4);
  header.writeBigUInt64BE(BigInt(backingFileOffset), 8);
  header.writeUInt32BE(backingFile.length, 16);
  header.writeUInt32BE(clusterBits, 20);
  header.writeBigUInt64BE(BigInt(virtualSize), 24);
  // 32: crypt_method 0 (none).
  header.writeUInt32BE(l1Entries, 36);
  header.writeBigUInt64BE(BigInt(l1Entries > 0 ? 3 * clusterSize : 0), 40);
  header.writeBigUInt64BE(BigInt(clusterSize), 48);
  header.writeUInt32BE(1, 56);
  // 60: nb_snapshots 0; 64: snapshots_offset 0; 72, 80, 88: no incompatible, compatible, autoclear features.
  header.writeUInt32BE(REFCOUNT_ORDER, 96);
  header.writeUInt32BE(HEADER_LENGTH, 100);
  // 104: compression_type 0 (zlib), then padding.

  const refcountTable = Buffer.alloc(8);
  refcountTable.writeBigUInt64BE(BigInt(2 * clusterSize));
  const refcountBlock = Buffer.alloc(clustersInUse * 2);
  for (let cluster = 0; cluster < clustersInUse; cluster++) refcountBlock.writeUInt16BE(1, cluster * 2);

  return {
    size: 3 * clusterSize + l1Bytes,
    extents: [
      { offset: 0, bytes: Buffer.concat([header, extensions, backingFile]) },
      { offset: clusterSize, bytes: refcountTable },
      { offset: 2 * clusterSize, bytes: refcountBlock },
    ],
  };
}
