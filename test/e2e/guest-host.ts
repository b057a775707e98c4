/**
 * What the tests that boot the e2e guest (guest.ts) through the spawn pipeline share: the host prepared for
 * it and the request that boots it.
 */
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import type { Instance, SpawnRequest } from '../../src/nova/spawn-request.js';
import { seedImage } from '../compute/seed-image.js';
import { fullRequest } from '../metadata/fixtures.js';
import { ensureGuestImage, type GuestImage } from './guest.js';
import { ensureLibvirtd } from './libvirtd.js';

const KERNEL_ID = 'a0000000-0000-4000-8000-00000000000a';
const RAMDISK_ID = 'b0000000-0000-4000-8000-00000000000b';
const IMAGE_ID = 'c0000000-0000-4000-8000-00000000000c';

/**
 * libvirtd up on qemu:///system, the guest built, and a fresh instances_path that QEMU (running as
 * libvirt-qemu) can reach, its image cache holding the guest's kernel and initramfs and an empty root disk.
 * Hooks calling it should allow INSTALL_TIMEOUT_MS.
 */
export async function prepareGuestHost(): Promise<{ instancesPath: string; guest: GuestImage }> {
  await ensureLibvirtd();
  const guest = await ensureGuestImage();
  mkdirSync('/var/lib/nova-spawnd-test', { recursive: true, mode: 0o755 });
  const instancesPath = mkdtempSync('/var/lib/nova-spawnd-test/instances-');
  chmodSync(instancesPath, 0o755);
  seedImage(instancesPath, KERNEL_ID, guest.kernel);
  seedImage(instancesPath, RAMDISK_ID, guest.initrd);
  seedImage(instancesPath, IMAGE_ID);
  return { instancesPath, guest };
}

/**
 * A spawn of the guest prepareGuestHost cached, booted directly with the image `properties` given (its
 * os_command_line at least): a tiny flavor, and no networks, since the host has none of the guest's bridges.
 */
export function guestSpawnRequest(instance: Partial<Instance>, properties: Record<string, string>): SpawnRequest {
  const base = fullRequest({
    ...instance,
    kernel_id: KERNEL_ID,
    ramdisk_id: RAMDISK_ID,
    image_ref: IMAGE_ID,
    network_info: [],
    flavor: { name: 'e2e.tiny', flavorid: 'e2e', vcpus: 1, memory_mb: 128, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {} },
  });
  return { ...base, image: { ...base.image, id: IMAGE_ID, properties } };
}
