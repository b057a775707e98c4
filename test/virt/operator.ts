import { Hypervisor } from '@unraid/libvirt';

/**
 * Pauses a domain from outside the daemon, as an operator's `virsh suspend` would, on a connection of its own
 * (test:///default is one hypervisor per process, whatever the connection).
 */
export async function suspendDomain(uri: string, name: string): Promise<void> {
  const operator = new Hypervisor({ uri });
  await operator.connectOpen();
  try {
    await operator.domainSuspend(await operator.domainLookupByName(name));
  } finally {
    await operator.connectClose();
  }
}
