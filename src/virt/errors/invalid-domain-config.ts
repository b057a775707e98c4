import { LibvirtFailure } from './libvirt-failure.js';

/** libvirt rejected the domain XML: malformed, invalid against its schema, or unsupported by this hypervisor. */
export class InvalidDomainConfig extends LibvirtFailure {
  override readonly name = 'InvalidDomainConfig';
  readonly transient = false;
}
