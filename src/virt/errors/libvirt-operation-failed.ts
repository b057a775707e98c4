import { LibvirtFailure } from './libvirt-failure.js';

/** Any other libvirt failure: the message is all there is to go on. */
export class LibvirtOperationFailed extends LibvirtFailure {
  override readonly name = 'LibvirtOperationFailed';
  readonly transient = false;
}
