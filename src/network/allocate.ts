/**
 * allocate_for_instance (nova/network/neutron.py), as Nova 26 does it for a server create: the requested
 * ports checked, the networks found, the security groups resolved, ports created as the user on the
 * requested networks, then every port bound to this host as the service; on a failure midway, what was
 * done is undone (created ports deleted, passed-in ports unbound).
 */
import { ServiceCallFailed } from '../clients/errors.js';
import type { NeutronCalls, NeutronNetwork, NeutronPort } from '../clients/neutron.js';
import type { Logger } from '../log.js';
import type { JsonValue } from '../metadata/python-json.js';
import { isAutoAllocate, isSingleUnspecified, type NetworkRequest } from '../nova/requested-networks.js';
import { deletePorts, unbindPorts } from './deallocate.js';
import { NetworkRequestRefused } from './errors.js';
import { DNS_INTEGRATION, RESOURCE_REQUEST_GROUPS, type ExtensionCache } from './extensions.js';
import { availableNetworks, buildInstanceNwInfo, type NetworkInstance } from './instance-nw-info.js';
import type { ModelOptions } from './network-info-model.js';

export interface NetworkCalls {
  /** get_client(context): the user's token. */
  user: NeutronCalls;
  /** get_client(context, admin=True): [neutron]'s credentials. */
  admin: NeutronCalls;
  extensions: ExtensionCache;
  model: ModelOptions;
  log: Logger;
}

export interface AllocateRequest {
  requestedNetworks: readonly NetworkRequest[] | null;
  /** binding:host_id: the compute host the ports are bound to. */
  host: string | null;
  /** Security group names or ids the server asked for. */
  securityGroups: readonly string[];
  /** Whether the context may attach an unshared external network (policy network:attach_external_network, admin only). */
  mayAttachExternal: boolean;
}

/** _ensure_no_port_binding_failure */
export function ensureNoPortBindingFailure(port: NeutronPort): void {
  if (port['binding:vif_type'] === 'binding_failed') {
    throw new NetworkRequestRefused('PortBindingFailed', `Binding failed for port ${port.id}, please check neutron logs for more information.`);
  }
}

/** _validate_requested_port_ids: the user's ports by id, and the requests with a network (a port's own network). */
async function validateRequestedPortIds(
  admin: NeutronCalls,
  instance: NetworkInstance,
  requested: readonly NetworkRequest[] | null,
): Promise<{ ports: Map<string, NeutronPort>; ordered: NetworkRequest[] }> {
  const ports = new Map<string, NeutronPort>();
  const ordered: NetworkRequest[] = [];
  if (requested === null || isAutoAllocate(requested)) return { ports, ordered };
  for (const original of requested) {
    const request = { ...original };
    if (request.port_id) {
      const port = await admin.showPort(request.port_id);
      if (port === null) throw new NetworkRequestRefused('PortNotFound', `Port id ${request.port_id} could not be found.`);
      if (port.tenant_id !== instance.project_id) {
        throw new NetworkRequestRefused('PortNotUsable', `Port ${request.port_id} not usable for instance ${instance.uuid}.`);
      }
      if (port.device_id) throw new NetworkRequestRefused('PortInUse', `Port ${request.port_id} is still in use.`);
      if (port.dns_name && port.dns_name !== instance.hostname) {
        throw new NetworkRequestRefused(
          'PortNotUsableDNS',
          `Port ${request.port_id} not usable for instance ${instance.uuid}. Value ${port.dns_name} assigned to dns_name attribute does not match instance's hostname ${instance.hostname}`,
        );
      }
      ensureNoPortBindingFailure(port);
      request.network_id = port.network_id;
      ports.set(request.port_id, port);
    }
    if (request.network_id) ordered.push(request);
  }
  return { ports, ordered };
}

/** _auto_allocate_network: the project's auto-allocated topology (created by Neutron when missing). */
async function autoAllocateNetwork(user: NeutronCalls, projectId: string): Promise<NeutronNetwork> {
  const unable = new NetworkRequestRefused('UnableToAutoAllocateNetwork', `Unable to automatically allocate a network for project ${projectId}`);
  try {
    const topology = await user.autoAllocatedTopology(projectId);
    return await user.showNetwork(topology.id);
  } catch (error) {
    if (error instanceof ServiceCallFailed && (error.status === 409 || error.status === 404)) throw unable;
    throw error;
  }
}

/**
 * _validate_requested_network_ids: the networks to use, by id in request order. Nothing requested (or one
 * unspecified request, or `auto`): the one network the project has, else NetworkAmbiguous.
 */
async function validateRequestedNetworkIds(
  user: NeutronCalls,
  instance: NetworkInstance,
  request: AllocateRequest,
  ordered: NetworkRequest[],
): Promise<Map<string, NeutronNetwork>> {
  const requested = request.requestedNetworks;
  const auto = isAutoAllocate(requested);
  let nets = await availableNetworks(user, instance.project_id, ordered.map((item) => item.network_id!), auto);
  const anyRequested = requested !== null && requested.length > 0;
  if (nets.length === 0) {
    if (!anyRequested) return new Map();
    if (auto) nets = [await autoAllocateNetwork(user, instance.project_id)];
    else {
      const missing = requested.find((item) => !item.port_id && item.network_id);
      if (missing) throw new NetworkRequestRefused('NetworkNotFound', `Network ${missing.network_id} could not be found.`);
    }
  }
  if (!anyRequested || isSingleUnspecified(requested) || auto) {
    if (nets.length === 0) {
      throw new NetworkRequestRefused('InterfaceAttachFailedNoNetwork', `No specific network was requested and none are available for project '${instance.project_id}'.`);
    }
    if (nets.length > 1) throw new NetworkRequestRefused('NetworkAmbiguous', 'Multiple possible networks found, use a Network ID to be more specific.');
    ordered.push({ network_id: nets[0]!.id, address: null, port_id: null, pci_request_id: null, tag: null, arq_uuid: null, device_profile: null });
  }
  // _check_external_network_attach, after the ambiguity check (bug 1364344).
  if (!request.mayAttachExternal) {
    const external = nets.find((net) => net['router:external'] && !net.shared);
    if (external) throw new NetworkRequestRefused('ExternalNetworkAttachForbidden', `It is not allowed to create an interface on external network ${external.id}`);
  }
  return new Map(nets.map((net) => [net.id, net]));
}

/** _clean_security_groups + _process_security_groups: names (or ids) -> ids; `default` alone is left to Neutron. */
async function securityGroupIds(user: NeutronCalls, projectId: string, requested: readonly string[]): Promise<string[]> {
  const groups = requested.length === 1 && requested[0] === 'default' ? [] : requested;
  if (groups.length === 0) return [];
  const known = await user.listSecurityGroups([['fields', ['id', 'name']], ['tenant_id', projectId]]);
  return groups.map((wanted) => {
    const byName = known.filter((group) => group.name === wanted);
    if (byName.length > 1) throw new NetworkRequestRefused('NoUniqueMatch', `Multiple security groups found matching '${wanted}'. Use an ID to be more specific.`);
    // A name that is also another group's id wins, as in Nova.
    const found = byName[0] ?? known.find((group) => group.id === wanted);
    if (found === undefined) throw new NetworkRequestRefused('SecurityGroupNotFound', `Security group ${wanted} not found.`);
    return found.id;
  });
}

/** _has_resource_request: a QoS minimum bandwidth or packet rate policy asks placement for resources. */
async function hasResourceRequest(port: NeutronPort, client: NeutronCalls, extensions: ExtensionCache): Promise<boolean> {
  const request = port.resource_request ?? {};
  if (await extensions.has(RESOURCE_REQUEST_GROUPS, client)) return Array.isArray(request['request_groups']) && request['request_groups'].length > 0;
  return Object.keys(request).length > 0;
}

/** Neutron's error type -> Nova's exception, for the port create (_create_port_minimal). */
function createFailure(error: unknown, networkId: string, fixedIp: string | null): unknown {
  if (!(error instanceof ServiceCallFailed)) return error;
  switch (error.code) {
    case 'InvalidIpForNetwork':
      return new NetworkRequestRefused('InvalidInput', `Invalid input received: Fixed IP ${fixedIp} is not a valid ip address for network ${networkId}.`);
    case 'IpAddressInUse':
    case 'IpAddressAlreadyAllocated':
      return new NetworkRequestRefused('FixedIpAlreadyInUse', `Fixed IP ${fixedIp} is already in use.`);
    case 'OverQuota':
      return new NetworkRequestRefused('PortLimitExceeded', 'Maximum number of ports exceeded');
    case 'IpAddressGenerationFailure':
      return new NetworkRequestRefused('NoMoreFixedIps', `No fixed IP addresses available for network: ${networkId}`);
    default:
      return error;
  }
}

/** _create_port_minimal: a port for the instance on the network, as the user. */
async function createPortMinimal(
  calls: NetworkCalls,
  instance: NetworkInstance,
  networkId: string,
  fixedIp: string | null,
  securityGroups: readonly string[],
): Promise<NeutronPort> {
  const body: Record<string, unknown> = { device_id: instance.uuid };
  if (fixedIp) body['fixed_ips'] = [{ ip_address: fixedIp }];
  Object.assign(body, { network_id: networkId, admin_state_up: true, tenant_id: instance.project_id });
  if (securityGroups.length > 0) body['security_groups'] = securityGroups;
  let port: NeutronPort;
  try {
    port = await calls.user.createPort(body);
  } catch (error) {
    throw createFailure(error, networkId, fixedIp);
  }
  // Ports with resource requests would need a placement allocation the scheduler never made for them.
  if (await hasResourceRequest(port, calls.user, calls.extensions)) {
    await deletePorts(calls.user, [port.id], calls.log, false);
    throw new NetworkRequestRefused(
      'NetworksWithQoSPolicyNotSupported',
      `Using networks with QoS policy is not supported for instance ${instance.uuid}. (Network ID is ${networkId})`,
    );
  }
  if (port['binding:vif_type'] === 'binding_failed') {
    await calls.user.deletePort(port.id);
    ensureNoPortBindingFailure(port);
  }
  return port;
}

/** _update_port: the binding PUT, as the service; a failed binding is refused. */
async function updatePort(admin: NeutronCalls, portId: string, body: Record<string, unknown>): Promise<NeutronPort> {
  let port: NeutronPort;
  try {
    port = await admin.updatePort(portId, body);
  } catch (error) {
    if (error instanceof ServiceCallFailed && error.code === 'MacAddressInUse') throw new NetworkRequestRefused('PortInUse', `Port ${String(body['mac_address'])} is still in use.`);
    if (error instanceof ServiceCallFailed && error.code === 'HostNotCompatibleWithFixedIps') {
      throw new NetworkRequestRefused('FixedIpInvalidOnHost', `The fixed IP associated with port ${portId} is not compatible with the host.`);
    }
    throw error;
  }
  ensureNoPortBindingFailure(port);
  return port;
}

/** _update_port_dns_name: on a network with a dns_domain, the user sets dns_name (Designate records live in the user's zone). */
async function updatePortDnsName(calls: NetworkCalls, instance: NetworkInstance, network: NeutronNetwork, portId: string): Promise<void> {
  if (!network.dns_domain || !(await calls.extensions.has(DNS_INTEGRATION, calls.user))) return;
  try {
    await calls.user.updatePort(portId, { dns_name: instance.hostname });
  } catch (error) {
    if (error instanceof ServiceCallFailed && error.status === 400) {
      throw new NetworkRequestRefused('InvalidInput', `Invalid input received: Instance hostname ${instance.hostname} is not a valid DNS name`);
    }
    throw error;
  }
}

interface PortPlan {
  request: NetworkRequest;
  /** The port created for a network request; null for a port the user passed in. */
  createdPortId: string | null;
}

/**
 * allocate_for_instance: the VIFs of the ports it processed, as _build_network_info_model builds them (empty
 * when the project has no network and none was requested).
 */
export async function allocateForInstance(calls: NetworkCalls, instance: NetworkInstance, request: AllocateRequest): Promise<JsonValue[]> {
  if (!instance.project_id) throw new NetworkRequestRefused('InvalidInput', `Invalid input received: empty project id for instance ${instance.uuid}`);
  for (const item of request.requestedNetworks ?? []) {
    if (item.pci_request_id || item.arq_uuid) {
      // Nova finds no PCI device (or accelerator) claimed for the request: this compute claims none.
      throw new NetworkRequestRefused('PciDeviceNotFound', `PCI device not found for request ID ${item.pci_request_id ?? item.arq_uuid}: nova-spawnd does not claim SR-IOV or accelerator devices`);
    }
  }
  // The service's client validates ports so that resource_request is filled (bug 1849657).
  const { ports, ordered } = await validateRequestedPortIds(calls.admin, instance, request.requestedNetworks);
  const nets = await validateRequestedNetworkIds(calls.user, instance, request, ordered);
  if (nets.size === 0) {
    calls.log.debug('No network configured', { instance: instance.uuid });
    return [];
  }
  const groupIds = await securityGroupIds(calls.user, instance.project_id, request.securityGroups);
  for (const port of ports.values()) {
    if (await hasResourceRequest(port, calls.user, calls.extensions)) {
      throw new NetworkRequestRefused(
        'NetworksWithQoSPolicyNotSupported',
        `Using networks with QoS policy is not supported for instance ${instance.uuid}. (Network ID is ${port.network_id})`,
      );
    }
  }

  // _create_ports_for_instance
  const plans: PortPlan[] = [];
  const created: string[] = [];
  try {
    for (const item of ordered) {
      const network = nets.get(item.network_id!);
      if (!network) continue;
      const portSecurity = network.port_security_enabled ?? true;
      if ((portSecurity && !network.subnets?.length) || (!portSecurity && groupIds.length > 0)) {
        throw new NetworkRequestRefused('SecurityGroupCannotBeApplied', 'Network requires port_security_enabled and subnet associated in order to apply security groups.');
      }
      let createdPortId: string | null = null;
      if (!item.port_id) {
        createdPortId = (await createPortMinimal(calls, instance, item.network_id!, item.address, groupIds)).id;
        created.push(createdPortId);
      }
      plans.push({ request: item, createdPortId });
    }
  } catch (error) {
    await deletePorts(calls.user, created, calls.log, false);
    throw error;
  }

  // _update_ports_for_instance
  const networksInOrder: NeutronNetwork[] = [];
  const portIdsInOrder: string[] = [];
  const preexisting: string[] = [];
  const touched: string[] = [];
  for (const { request: item, createdPortId } of plans) {
    const network = nets.get(item.network_id!);
    if (!network) continue;
    networksInOrder.push(network);
    const body: Record<string, unknown> = { device_id: instance.uuid, device_owner: `compute:${instance.availability_zone ?? 'None'}` };
    const profile = item.port_id ? ports.get(item.port_id)?.['binding:profile'] : null;
    if (profile && Object.keys(profile).length > 0) body['binding:profile'] = profile;
    const portId = createdPortId ?? item.port_id!;
    try {
      // _populate_neutron_extension_values
      body['binding:host_id'] = request.host;
      if ((await calls.extensions.has(DNS_INTEGRATION, calls.user)) && !network.dns_domain) body['dns_name'] = instance.hostname;
      portIdsInOrder.push(portId);
      if (createdPortId === null) touched.push(portId);
      await updatePort(calls.admin, portId, body);
      if (createdPortId === null) preexisting.push(portId);
      await updatePortDnsName(calls, instance, network, portId);
    } catch (error) {
      // Nova unbinds the passed-in ports it updated and deletes the ports it created so far; the port that
      // failed is unbound too, and every created port deleted, so that nothing stays bound to this host.
      await unbindPorts(calls, touched);
      await deletePorts(calls.user, created, calls.log, false);
      throw error;
    }
  }

  const nwInfo = await buildInstanceNwInfo(calls.admin, calls.extensions, instance, calls.model, {
    kind: 'allocated',
    networks: networksInOrder,
    portIds: portIdsInOrder,
    preexistingPortIds: preexisting,
  });
  // Only the ports processed in this run (all of them, for a server create).
  const processed = new Set([...created, ...preexisting]);
  return nwInfo.filter((vif) => processed.has(String((vif as Record<string, JsonValue>)['id'])));
}
