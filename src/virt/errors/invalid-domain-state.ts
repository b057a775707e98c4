import { LibvirtFailure } from './libvirt-failure.js';

/** The operation does not apply to the domain's current state: starting a running domain, destroying a stopped one. */
export class InvalidDomainState extends LibvirtFailure {
  override readonly name = 'InvalidDomainState';
  readonly transient = false;
}
