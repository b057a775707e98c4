/**
 * The NovaObject versions a Nova 26 (Zed) compute service speaks, and which objects each one holds: what
 * oslo.versionedobjects' obj_tree_get_versions(name) sends as `object_versions` with every
 * object_class_action_versions call, so that the conductor backports its answer to versions we read. Checked
 * against Nova's own registry (nova.objects.register_all()) by test/nova/object-versions.test.ts.
 */

/** name -> [VERSION, the objects its fields hold (ObjectField, ListOfObjectsField, DictOfObjects)]. */
export const NOVA_26_OBJECTS: Readonly<Record<string, readonly [string, readonly string[]]>> = {
  ComputeNode: ['1.19', ['HVSpec', 'PciDevicePoolList']],
  ComputeNodeList: ['1.17', ['ComputeNode']],
  ConsoleAuthToken: ['1.1', []],
  DeviceBus: ['1.0', []],
  DeviceMetadata: ['1.0', ['DeviceBus']],
  // The subclasses an InstanceDeviceMetadata's devices and their buses are on the wire (polymorphic fields: no
  // object tree names them, but a cast's Instance carries them).
  DiskMetadata: ['1.0', ['DeviceBus']],
  IDEDeviceBus: ['1.0', []],
  NetworkInterfaceMetadata: ['1.2', ['DeviceBus']],
  PCIDeviceBus: ['1.0', []],
  SCSIDeviceBus: ['1.0', []],
  USBDeviceBus: ['1.0', []],
  VirtualInterface: ['1.3', []],
  XenDeviceBus: ['1.0', []],
  EC2Ids: ['1.0', []],
  EC2InstanceMapping: ['1.0', []],
  Flavor: ['1.2', []],
  HVSpec: ['1.2', []],
  Instance: [
    '2.7',
    ['EC2Ids', 'Flavor', 'InstanceDeviceMetadata', 'InstanceFault', 'InstanceInfoCache', 'InstanceNUMATopology', 'InstancePCIRequests', 'KeyPairList',
      'MigrationContext', 'PciDeviceList', 'ResourceList', 'SecurityGroupList', 'ServiceList', 'TagList', 'TrustedCerts', 'VirtCPUModel'],
  ],
  InstanceAction: ['1.2', []],
  InstanceActionEvent: ['1.4', []],
  InstanceDeviceMetadata: ['1.0', ['DeviceMetadata']],
  InstanceFault: ['1.2', []],
  InstanceExternalEvent: ['1.5', []],
  InstanceInfoCache: ['1.5', []],
  InstanceList: ['2.6', ['Instance']],
  InstanceNUMACell: ['1.6', ['VirtCPUTopology']],
  InstanceNUMATopology: ['1.3', ['InstanceNUMACell']],
  InstancePCIRequest: ['1.4', []],
  InstancePCIRequests: ['1.1', ['InstancePCIRequest']],
  KeyPair: ['1.4', []],
  KeyPairList: ['1.3', ['KeyPair']],
  MigrationContext: ['1.2', ['InstanceNUMATopology', 'InstancePCIRequests', 'PciDeviceList', 'ResourceList']],
  PciDevice: ['1.7', []],
  PciDeviceList: ['1.3', ['PciDevice']],
  PciDevicePool: ['1.1', []],
  PciDevicePoolList: ['1.1', ['PciDevicePool']],
  Resource: ['1.0', ['ResourceMetadata']],
  ResourceList: ['1.0', ['Resource']],
  ResourceMetadata: ['1.0', []],
  SecurityGroup: ['1.2', []],
  SecurityGroupList: ['1.1', ['SecurityGroup']],
  Service: ['1.22', ['ComputeNode']],
  ServiceList: ['1.19', ['Service']],
  Tag: ['1.1', []],
  TagList: ['1.1', ['Tag']],
  TrustedCerts: ['1.0', []],
  VirtCPUFeature: ['1.0', []],
  VirtCPUModel: ['1.0', ['VirtCPUFeature', 'VirtCPUTopology']],
  VirtCPUTopology: ['1.0', []],
};

/** nova/objects/service.py SERVICE_VERSION of Nova 26.x: what a Zed compute registers with (compute RPC 6.1). */
export const NOVA_26_SERVICE_VERSION = 64;

export class UnknownNovaObject extends Error {
  override readonly name = 'UnknownNovaObject';
  constructor(readonly objName: string) {
    super(`${objName} is not a NovaObject this compute speaks (not in the Nova 26 version table)`);
  }
}

/** The version of `name` we send and read. */
export function novaObjectVersion(name: string): string {
  const entry = NOVA_26_OBJECTS[name];
  if (entry === undefined) throw new UnknownNovaObject(name);
  return entry[0];
}

/** oslo's obj_tree_get_versions(name): the object and every object it may hold, transitively, with their versions. */
export function objectTreeVersions(name: string): Record<string, string> {
  const versions: Record<string, string> = {};
  const visit = (current: string): void => {
    if (current in versions) return;
    versions[current] = novaObjectVersion(current);
    for (const child of NOVA_26_OBJECTS[current]![1]) visit(child);
  };
  visit(name);
  return versions;
}
