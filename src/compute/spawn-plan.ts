/**
 * Everything a spawn decides before it touches anything, as a pure function: the domain XML and the
 * instance's metadata, after the disks are named (the libvirt driver names them before it builds the drive,
 * and EC2's block-device-mapping and meta_data's devices read those names). The spawn pipeline, its dry run
 * and `drive build` all plan through here, so the drive `drive build` writes is the drive a spawn attaches.
 */
import { join } from 'node:path';
import { buildInstanceMetadata, type InstanceMetadata } from '../metadata/instance-metadata.js';
import type { MetadataOptions } from '../metadata/options.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import type { ConfigDriveFormat } from '../virt/blockinfo.js';
import { renderDomainXml } from '../virt/domain-xml.js';
import { planGuest, type GuestRequest } from '../virt/plan-guest.js';
import type { DiskInfoResult } from '../virt/blockinfo.js';
import type { VirtOptions } from '../virt/virt-options.js';
import { blockDevicesFor, withDeviceNames } from './block-devices.js';

export interface SpawnPlanOptions {
  virt: VirtOptions;
  metadata: MetadataOptions;
}

/** The files the guest's disks are: what the disks step prepared, or what it would (guestFilesIn). */
export type GuestFiles = Pick<GuestRequest, 'images' | 'kernel'>;

export interface SpawnPlan {
  xml: string;
  metadata: InstanceMetadata;
  /** The request as the instance is after its disks are named (root_device_name set). */
  named: SpawnRequest;
}

export function planSpawn(request: SpawnRequest, options: SpawnPlanOptions, files: GuestFiles, configDrive: ConfigDriveFormat | null, now: Date): SpawnPlan {
  const plan = planGuest({ request, options: options.virt, ...files, configDrive, now });
  return { xml: renderDomainXml(plan.guest), ...planMetadata(request, options, plan.diskInfo) };
}

/**
 * The instance's metadata, its disks named as a spawn names them: what a drive needs, without the domain (a
 * drive can be made for a guest whose NICs this host would not plug).
 */
export function planMetadata(request: SpawnRequest, options: SpawnPlanOptions, { mapping }: DiskInfoResult): Pick<SpawnPlan, 'metadata' | 'named'> {
  const named = withDeviceNames(request, mapping);
  return { metadata: buildInstanceMetadata(named, options.metadata, blockDevicesFor(mapping)), named };
}

/**
 * The names the disks step gives an instance's files in its directory, for a plan made without preparing
 * them. Their formats only shape the XML's <driver type>, never a device name or the metadata.
 */
export function guestFilesIn(directory: string, request: SpawnRequest): GuestFiles {
  const { flavor, kernel_id, ramdisk_id } = request.instance;
  const qcow2 = (name: string) => ({ path: join(directory, name), format: 'qcow2' as const });
  return {
    images: {
      disk: qcow2('disk'),
      ...(flavor.ephemeral_gb > 0 ? { 'disk.local': qcow2('disk.local') } : {}),
      ...(flavor.swap > 0 ? { 'disk.swap': qcow2('disk.swap') } : {}),
    },
    kernel: kernel_id ? { kernel: join(directory, 'kernel'), ramdisk: ramdisk_id ? join(directory, 'ramdisk') : null } : null,
  };
}
