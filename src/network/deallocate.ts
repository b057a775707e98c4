/**
 * deallocate_for_instance, _unbind_ports and _delete_ports (nova/network/neutron.py): the ports Nova
 * created for the instance are deleted, the ports the user passed in are unbound and left to the user.
 */
import { ServiceCallFailed } from '../clients/errors.js';
import type { NeutronCalls, NeutronNetwork } from '../clients/neutron.js';
import type { Logger } from '../log.js';
import type { NetworkRequest } from '../nova/requested-networks.js';
import type { NetworkCalls } from './allocate.js';
import { DNS_INTEGRATION } from './extensions.js';
import { preexistingPortIds, type NetworkInstance } from './instance-nw-info.js';

/** The binding:profile keys that describe this host's device, dropped when the port is unbound. */
const HOST_PROFILE_KEYS = [
  'pci_vendor_info', 'pci_slot', 'allocation', 'arq_uuid', 'physical_network', 'card_serial_number', 'vf_num', 'pf_mac_address', 'device_mac_address',
];

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * _delete_ports: every port, as the user; one Neutron no longer has is no failure. With `raiseIfFail`,
 * the first failure is thrown once every port was tried.
 */
export async function deletePorts(user: NeutronCalls, portIds: readonly string[], log: Logger, raiseIfFail: boolean): Promise<void> {
  const failures: unknown[] = [];
  for (const portId of portIds) {
    try {
      if (!(await user.deletePort(portId))) log.warning('Port does not exist', { port: portId });
    } catch (error) {
      failures.push(error);
      log.warning('Failed to delete port for instance', { port: portId, error: describe(error) });
    }
  }
  if (raiseIfFail && failures.length > 0) throw failures[0];
}

/**
 * _unbind_ports: device_id, device_owner and binding:host_id cleared, this host's keys dropped from the
 * binding profile, dns_name reset; a port already gone is skipped, and a port that cannot be unbound is
 * logged, not fatal (the instance is going either way).
 */
export async function unbindPorts(calls: Pick<NetworkCalls, 'user' | 'admin' | 'extensions' | 'log'>, portIds: Iterable<string>): Promise<void> {
  const networks = new Map<string, Partial<NeutronNetwork>>();
  for (const portId of portIds) {
    const body: Record<string, unknown> = { device_id: '', device_owner: '', 'binding:host_id': null };
    let profile: Record<string, unknown> = {};
    let network: Partial<NeutronNetwork> = {};
    try {
      const port = await calls.user.showPort(portId, ['binding:profile', 'network_id']);
      if (port === null) {
        calls.log.debug('Unable to show port as it no longer exists.', { port: portId });
        continue;
      }
      profile = { ...(port['binding:profile'] ?? {}) };
      network = networks.get(port.network_id) ?? (await calls.user.showNetwork(port.network_id, ['dns_domain']));
      networks.set(port.network_id, network);
    } catch (error) {
      calls.log.error('Unable to get binding:profile for port', { port: portId, error: describe(error) });
    }
    for (const key of HOST_PROFILE_KEYS) delete profile[key];
    body['binding:profile'] = profile;
    // Internal DNS (no dns_domain): the service resets dns_name; external DNS: the user does, below.
    if ((await calls.extensions.has(DNS_INTEGRATION, calls.admin)) && !network.dns_domain) body['dns_name'] = '';
    try {
      await calls.admin.updatePort(portId, body);
    } catch (error) {
      if (error instanceof ServiceCallFailed && error.status === 404) calls.log.debug('Unable to unbind port as it no longer exists.', { port: portId });
      else calls.log.error('Unable to clear device ID for port', { port: portId, error: describe(error) });
    }
    if (network.dns_domain && (await calls.extensions.has(DNS_INTEGRATION, calls.user))) {
      try {
        await calls.user.updatePort(portId, { dns_name: '' });
      } catch (error) {
        calls.log.error('Failed to reset dns_name for port', { port: portId, error: describe(error) });
      }
    }
  }
}

/**
 * deallocate_for_instance: the instance's ports (as the user sees them) deleted, except those the user
 * passed in (the failed build's requested ports, and the cache's preserve_on_delete ones), which are unbound.
 */
export async function deallocateForInstance(
  calls: NetworkCalls,
  instance: NetworkInstance,
  requestedNetworks: readonly NetworkRequest[] | null,
): Promise<void> {
  const ports = (await calls.user.listPorts([['device_id', instance.uuid]])).map((port) => port.id);
  const skip = new Set([...(requestedNetworks ?? []).flatMap((request) => (request.port_id ? [request.port_id] : [])), ...preexistingPortIds(instance)]);
  await unbindPorts(calls, skip);
  await deletePorts(calls.user, ports.filter((id) => !skip.has(id)), calls.log, true);
}
