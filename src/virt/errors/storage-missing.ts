import { LibvirtFailure } from './libvirt-failure.js';

/**
 * A file the domain needs (disk, config drive, kernel, console log directory) is missing or not accessible
 * to QEMU; `path` is that file when libvirt's message names it.
 */
export class StorageMissing extends LibvirtFailure {
  override readonly name = 'StorageMissing';
  readonly transient = false;
  constructor(
    operation: string,
    target: string,
    libvirtMessage: string,
    readonly path: string | null,
  ) {
    super(operation, target, libvirtMessage);
  }
}
