import type { NovaConfig } from '../config/schema.js';

/**
 * LibvirtDriver._uri: what virt_type implies when connection_uri is unset. Nova writes parallels:///system;
 * libvirt's vz driver answers to it as to vz:///system.
 */
const URIS_BY_VIRT_TYPE: Record<NovaConfig['libvirt']['virt_type'], string> = {
  kvm: 'qemu:///system',
  qemu: 'qemu:///system',
  lxc: 'lxc:///',
  parallels: 'parallels:///system',
};

export function connectionUri(libvirt: Pick<NovaConfig['libvirt'], 'connection_uri' | 'virt_type'>): string {
  return libvirt.connection_uri || URIS_BY_VIRT_TYPE[libvirt.virt_type];
}
