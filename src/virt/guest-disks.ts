/** The guest's <disk>s and the SCSI controller they may need (driver.py _get_guest_storage_config). */
import type { Flavor, ImageMeta } from '../nova/spawn-request.js';
import type { DiskMapping } from './blockinfo.js';
import type { DiskCachemode } from './cachemode.js';
import { InvalidImageProperty } from './errors/invalid-image-property.js';
import { MissingDiskImage } from './errors/missing-disk-image.js';
import type { DiskFormat, GuestController, GuestDisk, LocalDiskName } from './guest-config.js';

export interface DiskFile {
  path: string;
  format: DiskFormat;
}

/** The files the caller prepared for the mapping's disks; the config drive's path is fixed (disk.config). */
export interface LocalDiskImages {
  disk: DiskFile;
  'disk.local'?: DiskFile;
  'disk.swap'?: DiskFile;
}

/** Nova's order of devices: root, ephemeral, swap, config drive. */
const DISK_ORDER: readonly LocalDiskName[] = ['disk', 'disk.local', 'disk.swap', 'disk.config'];

const VIRTIO_SCSI = 'virtio-scsi';

/** nova.objects.fields.SCSIModel.ALL: what hw_scsi_model may say. */
const SCSI_MODELS = ['buslogic', 'ibmvscsi', 'lsilogic', 'lsisas1068', 'lsisas1078', VIRTIO_SCSI, 'vmpvscsi'] as const;

export interface DiskPlanInput {
  mapping: DiskMapping;
  images: LocalDiskImages;
  configDrivePath: string;
  flavor: Pick<Flavor, 'ephemeral_gb' | 'swap'>;
  image: Pick<ImageMeta, 'properties'>;
  /** The cache mode for file-backed disks: `[libvirt] disk_cachemodes` "file=", else the driver's default. */
  cachemode: DiskCachemode;
}

function imageFor(name: LocalDiskName, input: DiskPlanInput): DiskFile {
  if (name === 'disk.config') return { path: input.configDrivePath, format: 'raw' };
  const image = input.images[name];
  if (image !== undefined) return image;
  throw new MissingDiskImage(
    name,
    name === 'disk.local' ? `flavor.ephemeral_gb = ${input.flavor.ephemeral_gb}` : `flavor.swap = ${input.flavor.swap}`,
  );
}

/**
 * One <disk> per disk of the mapping. SCSI disks need a SCSI controller: the image's hw_scsi_model, else
 * virtio-scsi (Nova adds a controller only for hw_scsi_model and otherwise leaves the model to libvirt,
 * which may pick an emulated one the guest has no driver for). On virtio-scsi each disk gets its unit, as
 * Nova numbers them.
 */
export function planDisks(input: DiskPlanInput): { disks: GuestDisk[]; controllers: GuestController[] } {
  const names = DISK_ORDER.filter((name) => input.mapping[name] !== undefined);
  const requestedModel = input.image.properties['hw_scsi_model'];
  if (requestedModel !== undefined && !(SCSI_MODELS as readonly string[]).includes(requestedModel)) {
    throw new InvalidImageProperty('hw_scsi_model', requestedModel, `is not a SCSI controller model (one of ${SCSI_MODELS.join(', ')})`);
  }
  const controllers: GuestController[] =
    requestedModel !== undefined || names.some((name) => input.mapping[name]!.bus === 'scsi')
      ? [{ type: 'scsi', model: requestedModel ?? VIRTIO_SCSI, index: 0 }]
      : [];
  const numbered = controllers[0]?.model === VIRTIO_SCSI;
  let nextUnit = 0;

  const disks = names.map((name): GuestDisk => {
    const info = input.mapping[name]!;
    const image = imageFor(name, input);
    return {
      name,
      device: info.type,
      sourceFile: image.path,
      driverFormat: image.format,
      driverCache: input.cachemode,
      targetDev: info.dev,
      targetBus: info.bus,
      readonly: info.type === 'cdrom',
      scsiUnit: numbered && info.bus === 'scsi' ? nextUnit++ : null,
    };
  });
  return { disks, controllers };
}
