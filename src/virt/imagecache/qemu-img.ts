/** qemu-img, as nova/virt/images.py and libvirt/utils.py call it: info to probe, create for disks. */
import { runDiskCommand, UNTRUSTED_IMAGE_LIMITS } from './disk-command.js';

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
 * libvirt_utils.create_image(target, 'qcow2', size, backing_file=base): a copy-on-write overlay whose
 * backing format is the probed one (never guessed again by qemu at boot), inheriting the base's cluster
 * size as Nova does. Without a size the overlay is exactly as large as the base.
 */
export async function createQcow2Overlay(target: string, base: string, baseInfo: DiskInfo, sizeBytes: number | null): Promise<void> {
  const options = [`backing_file=${optionValue(base)}`, `backing_fmt=${baseInfo.format}`];
  if (baseInfo.clusterSize !== null) options.push(`cluster_size=${baseInfo.clusterSize}`);
  await runDiskCommand(['qemu-img', 'create', '-f', 'qcow2', '-o', options.join(','), target, ...(sizeBytes === null ? [] : [String(sizeBytes)])]);
}
