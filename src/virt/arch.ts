/** CPU architectures by Nova's names (nova.objects.fields.Architecture). */
import os from 'node:os';
import type { ImageMeta } from '../nova/spawn-request.js';
import { InvalidImageProperty } from './errors/invalid-image-property.js';

/** Architecture.ALL */
export const ARCHITECTURES = [
  'alpha', 'armv6', 'armv7l', 'armv7b', 'aarch64', 'cris', 'i686', 'ia64', 'lm32', 'm68k', 'microblaze',
  'microblazeel', 'mips', 'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc', 'ppcle',
  'ppc64', 'ppc64le', 'ppcemb', 's390', 's390x', 'sh4', 'sh4eb', 'sparc', 'sparc64', 'unicore32', 'x86_64',
  'xtensa', 'xtensaeb',
] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

function isArchitecture(name: string): name is Architecture {
  return (ARCHITECTURES as readonly string[]).includes(name);
}

/** Architecture.canonicalize: the spellings uname and old images use for the same thing; null when unknown. */
export function canonicalizeArchitecture(name: string): Architecture | null {
  let canonical = name.toLowerCase();
  if (['i386', 'i486', 'i586', 'x86_32', 'x86_32p'].includes(canonical)) canonical = 'i686';
  if (canonical === 'amd64') canonical = 'x86_64';
  return isArchitecture(canonical) ? canonical : null;
}

/** Architecture.from_host(): uname's machine, canonicalized. */
export function hostArchitecture(): Architecture {
  const machine = os.machine();
  const arch = canonicalizeArchitecture(machine);
  if (arch === null) throw new Error(`host architecture ${JSON.stringify(machine)} (uname -m) is not one Nova knows`);
  return arch;
}

/** libvirt_utils.get_arch: the image's hw_architecture, else the host's. */
export function guestArchitecture(image: Pick<ImageMeta, 'properties'>, hostArch: Architecture): Architecture {
  const requested = image.properties['hw_architecture'];
  if (requested === undefined) return hostArch;
  const arch = canonicalizeArchitecture(requested);
  if (arch === null) throw new InvalidImageProperty('hw_architecture', requested, `is not an architecture Nova knows (${ARCHITECTURES.join(', ')})`);
  return arch;
}
