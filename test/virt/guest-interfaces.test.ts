import { UnsupportedVif } from '../../src/virt/errors/unsupported-vif.js';
import { planInterfaces } from '../../src/virt/guest-interfaces.js';
import { vif } from './fixtures.js';

const plan = (...vifs: ReturnType<typeof vif>[]) => planInterfaces(vifs, { properties: {} });

describe('refused before libvirt sees them, naming the field and value', () => {
  test.each([
    ['a bridge VIF without a bridge', vif({ type: 'bridge', bridge: null }), 'network_info[0].network.bridge = null: a VIF of type bridge needs the bridge to plug into'],
    ['an ovs VIF without a bridge', vif({ type: 'ovs', bridge: '' }), 'network_info[0].network.bridge = "": a VIF of type ovs needs the bridge to plug into'],
    ['markup in a bridge name', vif({ type: 'bridge', bridge: `br<&"'>` }), `network_info[0].network.bridge = "br<&\\"'>": is not a device name`],
    ['markup in a devname', vif({ type: 'bridge', devname: 'tap"&<>' }), 'network_info[0].devname = "tap\\"&<>": is not a device name'],
    ['a tap VIF', vif({ type: 'tap' }), 'network_info[0].type = "tap": is not a VIF type this driver plugs (bridge, ovs)'],
    ['a vhostuser VIF', vif({ type: 'vhostuser' }), 'network_info[0].type = "vhostuser": is not a VIF type this driver plugs (bridge, ovs)'],
    ['an SR-IOV VIF', vif({ type: 'hw_veb' }), 'network_info[0].type = "hw_veb": is not a VIF type this driver plugs (bridge, ovs)'],
    ['OVS hybrid plugging', vif({ type: 'ovs', details: { ovs_hybrid_plug: true } }), 'network_info[0].details.ovs_hybrid_plug = true: OVS hybrid plugging'],
    ['a MAC that is not one', vif({ address: 'fa:16:3e:12:34' }), 'network_info[0].address = "fa:16:3e:12:34": is not a MAC address'],
    ['an MTU that is not a number', vif({ mtu: 'jumbo' }), 'network_info[0].network.meta.mtu = "jumbo": is not a positive integer'],
    ['an MTU of 0', vif({ mtu: 0 }), 'network_info[0].network.meta.mtu = 0: is not a positive integer'],
  ])('%s', (_label, bad, message) => {
    expect(() => plan(bad)).toThrow(UnsupportedVif);
    expect(() => plan(bad)).toThrow(message);
  });

  test('the path counts VIFs', () => {
    expect(() => plan(vif(), vif({ address: 'nope' }))).toThrow('network_info[1].address');
  });
});

test('an OVS VIF whose port os-vif creates, without devname, gets a tap named "nic" + its id, 14 characters', () => {
  expect(plan(vif({ type: 'ovs', delegate_create: true, devname: null, id: 'abcdefgh-ijkl-mnop' }))).toEqual([
    { type: 'ethernet', macAddress: 'fa:16:3e:12:34:56', model: 'virtio', mtu: 1450, targetDev: 'nicabcdefgh-ij' },
  ]);
});

test('a bridge VIF without devname leaves the tap name to libvirt', () => {
  expect(plan(vif({ type: 'bridge', devname: null, bridge: 'br100', mtu: null }))).toEqual([
    { type: 'bridge', macAddress: 'fa:16:3e:12:34:56', model: 'virtio', mtu: null, sourceBridge: 'br100', targetDev: null, virtualport: null },
  ]);
});
