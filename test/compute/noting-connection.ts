import { LibvirtConnection } from '../../src/virt/connection.js';

/** The real connection, noting the state changes asked of libvirt (shutdown, destroy, start) in `changes`. */
export class NotingConnection extends LibvirtConnection {
  readonly changes: string[] = [];

  override shutdown(name: string): Promise<void> {
    this.changes.push('shutdown');
    return super.shutdown(name);
  }

  override destroy(name: string): Promise<void> {
    this.changes.push('destroy');
    return super.destroy(name);
  }

  override start(domain: Parameters<LibvirtConnection['start']>[0]): Promise<void> {
    this.changes.push('start');
    return super.start(domain);
  }
}
