/**
 * libvirt_utils.create_image(target, 'qcow2', size, backing_file=base) for the instance's disks: the overlay
 * qemu-img would write, written here directly (qcow2-layout.ts) so a spawn starts no qemu-img; qemu-img
 * itself only for the layouts that module leaves to it.
 */
import { linkIntoPlace, placeImage, syncPath } from '../../durable-files.js';
import { qcow2OverlayLayout, type Qcow2OverlaySpec } from './qcow2-layout.js';
import { qemuImgCreateOverlay, type DiskInfo } from './qemu-img.js';

/**
 * What the overlay needs from its base: the probed format (never guessed again by qemu at boot) and the
 * base's cluster size, which Nova's overlays inherit. Without a size the overlay is as large as the base.
 */
function overlaySpec(base: string, baseInfo: DiskInfo, sizeBytes: number | null): Qcow2OverlaySpec {
  return { backingFile: base, backingFormat: baseInfo.format, virtualSize: sizeBytes ?? baseInfo.virtualSize, clusterSize: baseInfo.clusterSize };
}

/**
 * A new qcow2 file at `target` over `base`, as `qemu-img create` makes it, with its data synced and linked
 * into place unless a file is there already (then that one is kept). The name is durable once the caller
 * syncs the directory.
 */
export async function placeQcow2Overlay(target: string, base: string, baseInfo: DiskInfo, sizeBytes: number | null): Promise<void> {
  const spec = overlaySpec(base, baseInfo, sizeBytes);
  const layout = qcow2OverlayLayout(spec);
  if (layout !== null) {
    await placeImage(target, layout);
    return;
  }
  await linkIntoPlace(target, async (staged) => {
    await qemuImgCreateOverlay(staged, spec);
    await syncPath(staged);
  });
}
