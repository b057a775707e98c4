import { InvalidComputeRequest } from './invalid-compute-request.js';
import { childPath, expectList, expectString, Fields } from './json-fields.js';
import { optionalNovaObject, unwrapNovaObject } from './nova-object.js';
import type { DeviceMetadata } from './spawn-request.js';

type Bus = DeviceMetadata['bus'];
type Placement = Pick<DeviceMetadata, 'bus' | 'address'>;

/** objects/virt_device_metadata.py bus classes, as api/metadata/base.py _get_device_metadata names them. */
const BUS_BY_OBJECT: Record<string, Bus> = {
  PCIDeviceBus: 'pci',
  USBDeviceBus: 'usb',
  SCSIDeviceBus: 'scsi',
  IDEDeviceBus: 'ide',
  XenDeviceBus: 'xen',
};
const DEVICE_OBJECTS = ['NetworkInterfaceMetadata', 'DiskMetadata', 'DeviceMetadata'];
const BUSES: readonly Bus[] = ['pci', 'usb', 'scsi', 'ide', 'xen', 'none'];

/**
 * Instance.device_metadata (InstanceDeviceMetadata 1.x, nullable) -> the tagged devices. Like Nova's
 * metadata code, a device of an unknown class or on an unknown bus is left out, a device without a bus is
 * on bus "none" at address "none", and vlan / vf_trusted / serial / path appear only when set.
 */
export function deviceMetadataFromPrimitive(instance: Fields): DeviceMetadata[] {
  const list = optionalNovaObject(instance, 'device_metadata', ['InstanceDeviceMetadata'], 1);
  if (!list) return [];
  return list.data.list('devices').flatMap((value, index) => {
    const device = unwrapNovaObject(value, childPath(list.data.at('devices'), index), DEVICE_OBJECTS, 1);
    const placement = devicePlacement(device.data);
    if (!placement || device.name === 'DeviceMetadata') return [];
    return [deviceOfType(device.name === 'NetworkInterfaceMetadata' ? 'nic' : 'disk', device.data, placement)];
  });
}

function devicePlacement(device: Fields): Placement | null {
  if (!device.has('bus')) return { bus: 'none', address: 'none' };
  const names = Object.keys(BUS_BY_OBJECT);
  const busPath = device.at('bus');
  const name = Fields.of(device.raw('bus'), busPath).raw('nova_object.name');
  if (typeof name === 'string' && !names.includes(name)) return null;
  const bus = unwrapNovaObject(device.raw('bus'), busPath, names, 1);
  return { bus: BUS_BY_OBJECT[bus.name]!, address: bus.data.string('address', 'none') };
}

/** Our plain request's `device_metadata`: the DeviceMetadata model itself. */
export function readDeviceMetadataList(value: unknown, path: string): DeviceMetadata[] {
  return expectList(value, path).map((item, index) => {
    const fields = Fields.of(item, childPath(path, index));
    const type = fields.string('type');
    if (type !== 'nic' && type !== 'disk') throw new InvalidComputeRequest(fields.at('type'), type, 'must be "nic" or "disk"');
    fields.onlyKeys(['type', 'bus', 'address', 'tags', ...TYPE_KEYS[type]]);
    const bus = fields.string('bus', 'none');
    if (!(BUSES as readonly string[]).includes(bus)) throw new InvalidComputeRequest(fields.at('bus'), bus, `must be one of ${BUSES.join(', ')}`);
    return deviceOfType(type, fields, { bus: bus as Bus, address: fields.string('address', 'none') });
  });
}

const TYPE_KEYS = { nic: ['mac', 'vlan', 'vf_trusted'], disk: ['serial', 'path'] } as const;

/** NetworkInterfaceMetadata / DiskMetadata fields, named alike in Nova's objects and our plain request. */
function deviceOfType(type: DeviceMetadata['type'], fields: Fields, placement: Placement): DeviceMetadata {
  const tags = fields.list('tags').map((tag, index) => expectString(tag, childPath(fields.at('tags'), index)));
  if (type === 'nic') {
    return {
      type,
      ...placement,
      mac: fields.string('mac'),
      ...(fields.has('vlan') ? { vlan: fields.integer('vlan') } : {}),
      ...(fields.has('vf_trusted') ? { vf_trusted: fields.boolean('vf_trusted', false) } : {}),
      tags,
    };
  }
  const serial = fields.nullableString('serial');
  const path = fields.nullableString('path');
  return { type, ...placement, ...(serial !== null ? { serial } : {}), ...(path !== null ? { path } : {}), tags };
}
