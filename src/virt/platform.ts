/** The guest's architecture and machine type: what the bus rules and <os><type> depend on. */
import type { ImageMeta } from '../nova/spawn-request.js';
import { guestArchitecture, type Architecture } from './arch.js';

export interface GuestPlatform {
  arch: Architecture;
  /** null: none is known for the architecture, libvirt picks its default. */
  machineType: string | null;
}

/**
 * libvirt_utils.get_default_machine_type's built-in table. Nova (since Wallaby) names "pc" for x86 itself
 * rather than leaving it to libvirt, whose default could change under running guests.
 */
const DEFAULT_MACHINE_TYPES: Partial<Record<Architecture, string>> = {
  armv7l: 'virt',
  aarch64: 'virt',
  ppc64le: 'pseries',
  s390: 's390-ccw-virtio',
  s390x: 's390-ccw-virtio',
  i686: 'pc',
  x86_64: 'pc',
};

/**
 * `[libvirt] hw_machine_type` entries ("arch=type") as a lookup; the first entry for an arch wins, as in
 * Nova's loop. The keys are compared as written, like Nova's (no canonicalization).
 */
export function machineTypesByArch(entries: readonly string[]): ReadonlyMap<string, string> {
  const byArch = new Map<string, string>();
  for (const entry of entries) {
    const separator = entry.indexOf('=');
    const arch = entry.slice(0, separator);
    if (!byArch.has(arch)) byArch.set(arch, entry.slice(separator + 1));
  }
  return byArch;
}

/** libvirt_utils.get_arch + get_machine_type: image hw_machine_type, else the configured default for the arch, else Nova's table. */
export function guestPlatform(
  image: Pick<ImageMeta, 'properties'>,
  host: { arch: Architecture; machineTypes: ReadonlyMap<string, string> },
): GuestPlatform {
  const arch = guestArchitecture(image, host.arch);
  const machineType = image.properties['hw_machine_type'] ?? host.machineTypes.get(arch) ?? DEFAULT_MACHINE_TYPES[arch] ?? null;
  return { arch, machineType };
}
