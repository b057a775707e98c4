import type { SpawnRequest } from '../nova/spawn-request.js';
import type { LocalDiskImages } from '../virt/guest-disks.js';

/** The instance's disk files in its directory, from the image cache (imagebackend's create_image). */
export interface PreparedDisks {
  images: LocalDiskImages;
  /** Kernel and ramdisk for direct boot when the instance has a kernel_id. */
  kernel: { kernel: string; ramdisk: string | null } | null;
}

export interface DiskPreparer {
  /** Idempotent: files already in the directory (from an earlier attempt) are kept as they are. */
  prepare(request: SpawnRequest, directory: string): Promise<PreparedDisks>;
}
