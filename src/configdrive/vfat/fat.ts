import { MalformedVfatError } from './malformed-image-error.js';
import { FIRST_DATA_CLUSTER } from './volume-layout.js';

/** The 16-bit file allocation table: one entry per cluster, each naming the next cluster of its chain. */
const FREE = 0x0000;
const BAD_CLUSTER = 0xfff7;
/** Any entry from 0xFFF8 ends a chain; like mkfs.fat and Linux we write 0xFFFF. */
const FIRST_END_OF_CHAIN = 0xfff8;
const END_OF_CHAIN = 0xffff;

export interface ClusterRun {
  firstCluster: number;
  clusterCount: number;
}

/**
 * The FAT's bytes up to the last used cluster (the rest of the table is free, i.e. zero). Entry 0 repeats
 * the media byte and entry 1 is all ones (clean unmount, no I/O errors), as mkfs.fat writes them.
 */
export function encodeFat(media: number, runs: readonly ClusterRun[]): Uint8Array {
  const lastCluster = runs.reduce((last, run) => Math.max(last, run.firstCluster + run.clusterCount - 1), FIRST_DATA_CLUSTER - 1);
  const entries = new Uint16Array(lastCluster + 1);
  entries[0] = 0xff00 | media;
  entries[1] = END_OF_CHAIN;
  for (const { firstCluster, clusterCount } of runs) {
    const last = firstCluster + clusterCount - 1;
    for (let cluster = firstCluster; cluster < last; cluster++) entries[cluster] = cluster + 1;
    entries[last] = END_OF_CHAIN;
  }
  const bytes = new Uint8Array(entries.length * 2);
  const view = new DataView(bytes.buffer);
  entries.forEach((entry, index) => view.setUint16(index * 2, entry, true));
  return bytes;
}

/**
 * Follows a chain through a FAT. `claimed` is shared by every chain of the volume: a cluster seen twice
 * is a loop or two files sharing storage, and either way the walk stops with an error instead of running on.
 */
export function readClusterChain(fat: Uint8Array, clusterCount: number, firstCluster: number, claimed: Uint8Array, owner: string): number[] {
  const lastCluster = FIRST_DATA_CLUSTER + clusterCount - 1;
  const chain: number[] = [];
  const view = new DataView(fat.buffer, fat.byteOffset, fat.byteLength);
  let cluster = firstCluster;
  let where = `first cluster of ${owner}`;
  for (;;) {
    if (cluster < FIRST_DATA_CLUSTER || cluster > lastCluster) {
      throw new MalformedVfatError(where, cluster, `not a data cluster (${FIRST_DATA_CLUSTER}..${lastCluster})`);
    }
    if (claimed[cluster]) throw new MalformedVfatError(where, cluster, 'cluster already belongs to a chain (loop or cross-link)');
    claimed[cluster] = 1;
    chain.push(cluster);
    const next = view.getUint16(cluster * 2, true);
    where = `FAT entry of cluster ${cluster} (in the chain of ${owner})`;
    if (next >= FIRST_END_OF_CHAIN) return chain;
    if (next === FREE) throw new MalformedVfatError(where, next, 'free cluster inside a chain');
    if (next === BAD_CLUSTER) throw new MalformedVfatError(where, next, 'bad cluster inside a chain');
    cluster = next;
  }
}
