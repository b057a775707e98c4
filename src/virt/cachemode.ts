/** Disk cache modes: nova/virt/libvirt/driver.py disk_cachemode and [libvirt] disk_cachemodes. */
import type { ConfigProblem } from '../config/config-error.js';

/** VALID_DISK_CACHEMODES */
export const DISK_CACHEMODES = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
export type DiskCachemode = (typeof DISK_CACHEMODES)[number];

/**
 * The driver's default (disk_cachemode): "none" (O_DIRECT: consistent performance, safe migration), or
 * "writeback" where instances_path does not support O_DIRECT.
 */
export function defaultCachemode(directIo: boolean): DiskCachemode {
  return directIo ? 'none' : 'writeback';
}

/**
 * `[libvirt] disk_cachemodes` ("file=directsync", keyed by the disk's source type) as a lookup. Nova logs and
 * skips a mode it does not know; here it is a configuration problem, reported before the daemon starts.
 */
export function parseDiskCachemodes(entries: readonly string[]): {
  cachemodes: ReadonlyMap<string, DiskCachemode>;
  problems: ConfigProblem[];
} {
  const cachemodes = new Map<string, DiskCachemode>();
  const problems: ConfigProblem[] = [];
  for (const entry of entries) {
    const separator = entry.indexOf('=');
    const mode = entry.slice(separator + 1);
    if ((DISK_CACHEMODES as readonly string[]).includes(mode)) {
      cachemodes.set(entry.slice(0, separator), mode as DiskCachemode);
    } else {
      problems.push({
        section: 'libvirt',
        option: 'disk_cachemodes',
        value: entry,
        reason: `${JSON.stringify(mode)} is not a cache mode (one of ${DISK_CACHEMODES.join(', ')})`,
      });
    }
  }
  return { cachemodes, problems };
}
