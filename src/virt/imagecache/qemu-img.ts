/** qemu-img, as nova/virt/images.py and libvirt/utils.py call it: info to probe, create for disks. */
import { runDiskCommand, UNTRUSTED_IMAGE_LIMITS } from './disk-command.js';
import type { Qcow2OverlaySpec } from './qcow2-layout.js';

/** What `qemu-img info --output=json` says about one file (oslo's QemuImgInfo, the fields Nova looks at). */
export interface DiskInfo {
  /** The format qemu-img detected from the content: raw, qcow2, vmdk, ... */
  format: string;
  virtualSize: number;
  clusterSize: number | null;
  backingFile: string | null;
  /** A qcow2 "external data file": the guest's data lives in another host file. */
  dataFile: string | null;
}

interface QemuImgInfoJson {
  format?: unknown;
  'virtual-size'?: unknown;
  'cluster-size'?: unknown;
  'backing-filename'?: unknown;
  'format-specific'?: { data?: { 'data-file'?: unknown } };
}

export function parseQemuImgInfo(json: string): DiskInfo {
  const info = JSON.parse(json) as QemuImgInfoJson;
  if (typeof info.format !== 'string' || typeof info['virtual-size'] !== 'number') {
    throw new Error(`qemu-img info output has no format or virtual-size: ${json.slice(0, 200)}`);
  }
  const dataFile = info['format-specific']?.data?.['data-file'];
  return {
    format: info.format,
    virtualSize: info['virtual-size'],
    clusterSize: typeof info['cluster-size'] === 'number' ? info['cluster-size'] : null,
    backingFile: typeof info['backing-filename'] === 'string' ? info['backing-filename'] : null,
    dataFile: typeof dataFile === 'string' ? dataFile : null,
  };
}

/**
 * Probes the file's real format. --force-share: a base file is open in running guests' backing chains, and
 * qemu's image locking would otherwise refuse the probe.
 */
export async function qemuImgInfo(path: string): Promise<DiskInfo> {
  return parseQemuImgInfo(await runDiskCommand([...UNTRUSTED_IMAGE_LIMITS, 'qemu-img', 'info', '--force-share', '--output=json', path]));
}

/** qemu's -o values are comma-separated; a comma inside a value is written twice. */
function optionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * `qemu-img create -f qcow2 -o backing_file=...,backing_fmt=...[,cluster_size=...] TARGET SIZE`, for the
 * overlays qcow2-layout.ts does not lay out itself.
 */
export async function qemuImgCreateOverlay(target: string, spec: Qcow2OverlaySpec): Promise<void> {
  const options = [`backing_file=${optionValue(spec.backingFile)}`, `backing_fmt=${spec.backingFormat}`];
  if (spec.clusterSize !== null) options.push(`cluster_size=${spec.clusterSize}`);
  await runDiskCommand(['qemu-img', 'create', '-f', 'qcow2', '-o', options.join(','), target, String(spec.virtualSize)]);
}
