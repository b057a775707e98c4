import { LibvirtFailure } from './libvirt-failure.js';

/** No domain with that name or uuid (it was never defined, or was undefined meanwhile). */
export class DomainNotFound extends LibvirtFailure {
  override readonly name = 'DomainNotFound';
  readonly transient = false;
}
