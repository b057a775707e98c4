/** The guest's <interface>s from network_info (nova/virt/libvirt/vif.py with os-vif's bridge and OVS plugins). */
import type { ImageMeta, Vif } from '../nova/spawn-request.js';
import { InvalidImageProperty } from './errors/invalid-image-property.js';
import { UnsupportedVif } from './errors/unsupported-vif.js';
import type { GuestInterface } from './guest-config.js';

/** vif.SUPPORTED_VIF_MODELS['qemu'] (kvm's lacks lan9118, which only the emulated ARM boards have). */
const VIF_MODELS = ['virtio', 'ne2k_pci', 'pcnet', 'rtl8139', 'e1000', 'e1000e', 'lan9118', 'spapr-vlan', 'vmxnet3'] as const;

/** network_model.NIC_NAME_LEN: Linux interface names are at most 15 bytes with the NUL; Nova keeps 14. */
const NIC_NAME_LEN = 14;

/** libvirt's schema (basictypes.rng): deviceName for bridges and tap devices, uniMacAddr for MACs. */
const DEVICE_NAME = /^[a-zA-Z0-9_.\-\\:/]+$/;
const MAC_ADDRESS = /^[a-fA-F0-9]{2}(:[a-fA-F0-9]{2}){5}$/;

/** A name libvirt would refuse (or, unvalidated, hand to the kernel) is refused here, naming the field. */
function checked(value: string, pattern: RegExp, field: string, what: string): string {
  if (pattern.test(value)) return value;
  throw new UnsupportedVif(field, value, `is not ${what}`);
}

/** The image's hw_vif_model, else virtio (Nova's choice for kvm/qemu: [libvirt] use_virtio_for_bridges). */
function vifModel(image: Pick<ImageMeta, 'properties'>): string {
  const model = image.properties['hw_vif_model'];
  if (model === undefined) return 'virtio';
  if (!(VIF_MODELS as readonly string[]).includes(model)) {
    throw new InvalidImageProperty('hw_vif_model', model, `is not a NIC model kvm or qemu supports (${VIF_MODELS.join(', ')})`);
  }
  return model;
}

/** The network's MTU (meta "mtu"), which Nova passes to libvirt when the network has one. */
function mtu(vif: Vif, path: string): number | null {
  const value = vif.network.meta['mtu'];
  if (value === undefined || value === null) return null;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0) {
    throw new UnsupportedVif(`${path}.network.meta.mtu`, value, 'is not a positive integer');
  }
  return number;
}

/** vif.get_vif_devname: the VIF's devname, else "nic" + its id, cut to an interface name's length. */
function devname(vif: Vif, path: string): string {
  return checked(vif.devname ?? `nic${vif.id}`.slice(0, NIC_NAME_LEN), DEVICE_NAME, `${path}.devname`, 'a device name');
}

function bridgeName(vif: Vif, path: string): string {
  if (vif.network.bridge) return checked(vif.network.bridge, DEVICE_NAME, `${path}.network.bridge`, 'a device name');
  throw new UnsupportedVif(`${path}.network.bridge`, vif.network.bridge, `a VIF of type ${vif.type} needs the bridge to plug into`);
}

/**
 * nova/virt/libvirt/vif.py for the VIF types this driver plugs (vif-plug.ts): bridge, a Linux bridge
 * (os-vif's VIFBridge); ovs, the integration bridge (VIFOpenVSwitch): with delegate_create, as every VIF from
 * Neutron has it, os-vif creates the switch port and libvirt a plain tap (_set_config_VIFGeneric), else libvirt
 * adds the tap to the bridge through an openvswitch virtualport carrying the Neutron port id. Every other type
 * (tap, vhostuser, hw_veb, ...) and OVS's hybrid plug (a qbr bridge per port for iptables filtering) is
 * refused, naming the VIF, before anything is created.
 */
export function planInterfaces(networkInfo: readonly Vif[], image: Pick<ImageMeta, 'properties'>): GuestInterface[] {
  const model = vifModel(image);
  return networkInfo.map((vif, index): GuestInterface => {
    const path = `network_info[${index}]`;
    const common = { macAddress: checked(vif.address, MAC_ADDRESS, `${path}.address`, 'a MAC address'), model, mtu: mtu(vif, path) };
    const targetDev = vif.devname === null ? null : devname(vif, path);
    switch (vif.type) {
      case 'bridge':
        return { ...common, type: 'bridge', sourceBridge: bridgeName(vif, path), targetDev, virtualport: null };
      case 'ovs':
        if (vif.details['ovs_hybrid_plug'] === true) {
          throw new UnsupportedVif(`${path}.details.ovs_hybrid_plug`, true, 'OVS hybrid plugging (a Linux bridge per port for the iptables firewall) is not supported: use the openvswitch or noop firewall driver');
        }
        if (vif.delegate_create) return { ...common, type: 'ethernet', targetDev: devname(vif, path) };
        return {
          ...common,
          type: 'bridge',
          sourceBridge: bridgeName(vif, path),
          targetDev,
          virtualport: { type: 'openvswitch', interfaceId: vif.id },
        };
      default:
        throw new UnsupportedVif(`${path}.type`, vif.type, 'is not a VIF type this driver plugs (bridge, ovs)');
    }
  });
}
