/** What the libvirt driver tells the instance about its disks before the drive is built (driver.py _create_image). */
import type { BlockDevices } from '../metadata/block-device-mapping.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import type { DiskMapping } from '../virt/blockinfo.js';
import { deviceNames } from '../virt/plan-guest.js';

/** instance.root_device_name is set from the disk mapping when the request had none (meta_data and EC2 read it). */
export function withDeviceNames(request: SpawnRequest, mapping: DiskMapping): SpawnRequest {
  if (request.instance.root_device_name) return request;
  return { ...request, instance: { ...request.instance, root_device_name: deviceNames(mapping).root_device_name } };
}

/**
 * The BDMs Nova's compute manager would hold for an image-backed instance: the image on the root disk, a
 * blank ephemeral and a swap disk when the flavor has them (EC2's block-device-mapping is built from them).
 */
export function blockDevicesFor(mapping: DiskMapping): BlockDevices {
  const names = deviceNames(mapping);
  return {
    default_ephemeral_device: names.default_ephemeral_device,
    default_swap_device: names.default_swap_device,
    block_device_mapping: [
      { source_type: 'image', destination_type: 'local', guest_format: null, device_name: names.root_device_name },
      ...(names.default_ephemeral_device
        ? [{ source_type: 'blank' as const, destination_type: 'local' as const, guest_format: null, device_name: names.default_ephemeral_device }]
        : []),
      ...(names.default_swap_device
        ? [{ source_type: 'blank' as const, destination_type: 'local' as const, guest_format: 'swap', device_name: names.default_swap_device }]
        : []),
    ],
  };
}
