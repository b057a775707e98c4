/**
 * What every libvirt call that failed becomes at the connection boundary (classify-error.ts): the rest of
 * the daemon never sees the binding's raw LibvirtError, whose code and domain are always -1.
 */
export abstract class LibvirtFailure extends Error {
  abstract override readonly name: string;
  /** A later attempt may succeed without anything changing on our side (the daemon was restarting). */
  abstract readonly transient: boolean;
  constructor(
    /** The libvirt call, e.g. "domainDefineXML". */
    readonly operation: string,
    /** What it was called on, e.g. `domain "instance-0000002a"`, `uuid 8a3c...`, `qemu:///system`. */
    readonly target: string,
    /** libvirt's own message, unchanged. */
    readonly libvirtMessage: string,
  ) {
    super(`libvirt ${operation} on ${target} failed: ${libvirtMessage}`);
  }
}
