import { LibvirtFailure } from './libvirt-failure.js';

/** No connection to libvirtd: refused, socket missing, broken pipe, closed by the daemon, keepalive timeout. */
export class LibvirtUnavailable extends LibvirtFailure {
  override readonly name = 'LibvirtUnavailable';
  readonly transient = true;
}
