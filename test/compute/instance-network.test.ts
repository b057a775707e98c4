/** InstanceNetwork for network `none`: Nova's manager asks Neutron nothing and saves nothing, nor do we. */
import { InstanceNetwork, type InstanceNetworkDeps } from '../../src/compute/instance-network.js';
import type { InstanceBookkeeping } from '../../src/compute/instance-bookkeeping.js';
import { getLogger } from '../../src/log.js';
import type { NetworkRequest } from '../../src/nova/requested-networks.js';
import { WireObject } from '../../src/nova/wire-object.js';

const UUID = '6f1a2b3c-0000-4000-8000-00000000000a';
const NONE: NetworkRequest[] = [{ network_id: 'none', port_id: null, address: null, pci_request_id: null, tag: null, arq_uuid: null, device_profile: null }];

/** Every call to Neutron or nova-conductor is recorded, and refused. */
function network(): { instanceNetwork: InstanceNetwork; asked: string[] } {
  const asked: string[] = [];
  const refuse = (what: string) => async () => {
    asked.push(what);
    throw new Error(`${what} was not to be called`);
  };
  const deps: InstanceNetworkDeps = {
    network: { allocateForInstance: refuse('allocate_for_instance'), getInstanceNwInfo: refuse('get_instance_nw_info'), deallocateForInstance: refuse('deallocate_for_instance') } as unknown as InstanceNetworkDeps['network'],
    conductor: { objectAction: refuse('object_action'), classActionObject: refuse('object_class_action_versions') },
    host: 'compute-1',
    log: getLogger('test'),
  };
  return { instanceNetwork: new InstanceNetwork(deps), asked };
}

const book = { uuid: UUID, log: { instance: UUID } } as unknown as InstanceBookkeeping;
const instance = WireObject.fromPrimitive({ 'nova_object.name': 'Instance', 'nova_object.namespace': 'nova', 'nova_object.version': '2.7', 'nova_object.data': { uuid: UUID } }, 'instance', 'Instance');

test("allocate for network 'none': null, nothing asked of Neutron, no info cache saved (_allocate_network_async)", async () => {
  const { instanceNetwork, asked } = network();
  await expect(instanceNetwork.allocate(book, instance, {}, NONE, [], false)).resolves.toBeNull();
  await expect(instanceNetwork.allocate(book, instance, {}, NONE, [], true)).resolves.toBeNull();
  expect(asked).toEqual([]);
});

test("deallocate for network 'none': nothing asked, nothing saved (_deallocate_network)", async () => {
  const { instanceNetwork, asked } = network();
  await instanceNetwork.deallocate(book, instance, {}, NONE, null);
  expect(asked).toEqual([]);
});

test('any other request asks Neutron (the stand-in refuses, so it fails)', async () => {
  const { instanceNetwork, asked } = network();
  await expect(instanceNetwork.allocate(book, instance, {}, null, [], false)).rejects.toThrow();
  expect(asked).toEqual(['allocate_for_instance']);
});
