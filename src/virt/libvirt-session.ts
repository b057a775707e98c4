import { Hypervisor } from '@unraid/libvirt';
import { classifyLibvirtError } from './classify-error.js';

/**
 * One open connection of the binding. The binding's connectClose() frees libvirt's connection while another
 * libuv thread may still be inside a call on it, and any later call on the object uses freed memory; so a
 * session is closed only once it is retired AND no call is using it, and never used after that.
 */
export class LibvirtSession {
  private inFlight = 0;
  private retired = false;
  private closing = false;
  private readonly closed: Promise<void>;
  private markClosed!: () => void;

  private constructor(private readonly hypervisor: Hypervisor) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  static async open(uri: string): Promise<LibvirtSession> {
    const hypervisor = new Hypervisor({ uri });
    try {
      await hypervisor.connectOpen();
    } catch (error) {
      // A failed open leaves no connection behind: nothing to close.
      throw classifyLibvirtError(error, 'connectOpen', uri);
    }
    return new LibvirtSession(hypervisor);
  }

  /**
   * Claims the session for one call, to be made with run(); false once it is closing. Claiming is
   * synchronous, so nothing can close the session between finding it and claiming it.
   */
  reserve(): boolean {
    if (this.closing) return false;
    this.inFlight++;
    return true;
  }

  /** The call a reserve() claimed the session for. */
  async run<T>(operation: string, target: string, action: (hypervisor: Hypervisor) => Promise<T>): Promise<T> {
    try {
      return await action(this.hypervisor);
    } catch (error) {
      throw classifyLibvirtError(error, operation, target);
    } finally {
      this.inFlight--;
      this.closeIfIdle();
    }
  }

  /** No new work for this session; it closes when its last call returns. Resolves once closed. */
  retire(): Promise<void> {
    this.retired = true;
    this.closeIfIdle();
    return this.closed;
  }

  private closeIfIdle(): void {
    if (!this.retired || this.inFlight > 0 || this.closing) return;
    this.closing = true;
    // Closing a connection the daemon already dropped may fail; there is nothing left to release then.
    this.hypervisor
      .connectClose()
      .catch(() => undefined)
      .then(this.markClosed);
  }
}
