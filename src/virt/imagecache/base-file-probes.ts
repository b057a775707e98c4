/**
 * qemu-img info of the files in the image cache, run once per file per process instead of on every use.
 *
 * Nova inspects the base file again on every spawn (Qcow2.create_image's safety check "because additional
 * safety checks could have been added since we downloaded the image", then qemu_img_info in
 * verify_base_size and in libvirt_utils.create_image). Here each spawn would start two prlimit'ed qemu-img
 * children for a file whose answer cannot change: a file in `_base` appears only through publishFile,
 * whole and already checked, by link(2), and nothing writes to it afterwards (guests write to their
 * overlays; qemu opens the base read-only). So the probe is kept per path together with the file's
 * identity: device, inode, size, mtime and ctime. Replacing the file (a new inode), rewriting it (size,
 * mtime) or setting its mtime back (ctime, which no one can set) changes the identity, and the file is
 * probed afresh. Nova's reason to look again does not apply within one process: the rules are this
 * process's code, and they are applied to the kept probe on every use (image-inspection.ts, with that
 * use's disk_format); a restarted, upgraded daemon probes every file again.
 *
 * Files still being written (`.part-*`, a download about to be checked) and files outside a `_base`
 * directory are probed on every call, as before.
 */
import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { inBaseDirectory } from './cache-names.js';
import { isTempPath } from './publish-file.js';
import type { DiskInfo } from './qemu-img.js';

export type Probe = (path: string) => Promise<DiskInfo>;

function identity(stats: BigIntStats): string {
  return [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].join(':');
}

type Identity = { kind: 'present'; identity: string } | { kind: 'missing' };

export class BaseFileProbes {
  private readonly known = new Map<string, { identity: string; info: Promise<Readonly<DiskInfo>> }>();

  constructor(private readonly probe: Probe) {}

  /** The probe of `path`: remembered for published cache files, run afresh for anything else. */
  async info(path: string): Promise<Readonly<DiskInfo>> {
    if (!inBaseDirectory(path) || isTempPath(path)) return this.probe(path);
    const current = await this.identityOf(path);
    // Gone (aged out of the cache): qemu-img reports it as it always has.
    return current.kind === 'present' ? this.remembered(path, current.identity) : this.probe(path);
  }

  /**
   * info() of a published cache file, or null when there is no file at `path`: whether the image is cached
   * and its probe from one stat(2).
   */
  async infoIfPresent(path: string): Promise<Readonly<DiskInfo> | null> {
    if (!inBaseDirectory(path) || isTempPath(path)) throw new RangeError(`not a published cache file: ${path}`);
    const current = await this.identityOf(path);
    if (current.kind === 'missing') return null;
    return this.remembered(path, current.identity);
  }

  /**
   * The file's identity now; a file that is not there is forgotten. A cache the host cannot look into
   * (ENOTDIR, EACCES, EIO) rejects with stat's own error: the host's fault, not the image's, which qemu-img's
   * failure to open the file would wrongly make it (ImageUnacceptable).
   */
  private async identityOf(path: string): Promise<Identity> {
    try {
      return { kind: 'present', identity: identity(await stat(path, { bigint: true })) };
    } catch (error) {
      this.known.delete(path);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw error;
    }
  }

  private remembered(path: string, current: string): Promise<Readonly<DiskInfo>> {
    const known = this.known.get(path);
    if (known?.identity === current) return known.info;
    // Concurrent spawns of one image share this probe; a failed one is not remembered.
    const entry = { identity: current, info: this.probe(path).then((info) => Object.freeze(info)) };
    this.known.set(path, entry);
    entry.info.catch(() => {
      if (this.known.get(path) === entry) this.known.delete(path);
    });
    return entry.info;
  }
}
