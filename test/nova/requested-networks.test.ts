/**
 * build_and_run_instance's requested_networks: NetworkRequestList primitives made by Nova's own objects,
 * decoded; the list's auto/none/unspecified properties as Nova's; bad primitives refused naming the field.
 */
import {
  isAutoAllocate,
  isNoAllocate,
  isSingleUnspecified,
  requestedNetworksFromPrimitive,
  type NetworkRequest,
} from '../../src/nova/requested-networks.js';
import { runPython } from '../metadata/python.js';
import { expectInvalid } from './expect-invalid.js';

const NOVA_LISTS = `
import json, sys
from nova import objects
objects.register_all()
out = []
for requests in json.load(sys.stdin):
    rl = objects.NetworkRequestList(objects=[objects.NetworkRequest(**r) for r in requests])
    out.append({'primitive': rl.obj_to_primitive(), 'auto': rl.auto_allocate, 'none': rl.no_allocate,
                'unspecified': rl.is_single_unspecified})
print(json.dumps(out))
`;

const NET = '3f39a26c-c9a1-4c6e-9f55-0b1f2a3c4d5e';
const PORT = 'd1bc88c9-fe01-4b2a-9c3d-4e5f6a7b8c9d';

const LISTS: Record<string, unknown>[][] = [
  [{ network_id: NET, address: '10.9.0.50', tag: 'web' }, { port_id: PORT }],
  [{ network_id: 'auto' }],
  [{ network_id: 'none' }],
  [{}],
  [{ tag: 'only-a-tag' }],
  [{ network_id: NET }, { network_id: 'auto' }],
  [{ network_id: NET, address: '2001:db8::5' }],
  [],
];

const NULLS: NetworkRequest = { network_id: null, address: null, port_id: null, pci_request_id: null, tag: null, arq_uuid: null, device_profile: null };

test("Nova's primitives decode in order, with unset fields None; auto, none and unspecified as Nova says", async () => {
  const nova = JSON.parse(await runPython(['-c', NOVA_LISTS], LISTS)) as { primitive: unknown; auto: boolean; none: boolean; unspecified: boolean }[];
  nova.forEach((answer, index) => {
    const decoded = requestedNetworksFromPrimitive(answer.primitive)!;
    expect(decoded).toEqual(LISTS[index]!.map((fields) => ({ ...NULLS, ...fields })));
    expect([isAutoAllocate(decoded), isNoAllocate(decoded), isSingleUnspecified(decoded)]).toEqual([answer.auto, answer.none, answer.unspecified]);
  });
}, 30_000);

test('None is no request at all', () => {
  expect(requestedNetworksFromPrimitive(null)).toBeNull();
  expect(requestedNetworksFromPrimitive(undefined)).toBeNull();
  expect([isAutoAllocate(null), isNoAllocate(null), isSingleUnspecified(null)]).toEqual([false, false, false]);
});

function list(...requests: Record<string, unknown>[]): unknown {
  return {
    'nova_object.name': 'NetworkRequestList',
    'nova_object.namespace': 'nova',
    'nova_object.version': '1.1',
    'nova_object.data': {
      objects: requests.map((data) => ({ 'nova_object.name': 'NetworkRequest', 'nova_object.namespace': 'nova', 'nova_object.version': '1.3', 'nova_object.data': data })),
    },
  };
}

test('a bad primitive is refused naming the field and the value', () => {
  expectInvalid(() => requestedNetworksFromPrimitive(list({ network_id: 7 })), 'requested_networks.objects[0].network_id', 7);
  expectInvalid(() => requestedNetworksFromPrimitive(list({ port_id: PORT }, { address: '10.9.0.300' })), 'requested_networks.objects[1].address', '10.9.0.300');
  expectInvalid(() => requestedNetworksFromPrimitive({ ...(list() as object), 'nova_object.name': 'NetworkRequest' }), 'requested_networks.nova_object.name', 'NetworkRequest');
  expectInvalid(() => requestedNetworksFromPrimitive([PORT]), 'requested_networks', [PORT]);
});
