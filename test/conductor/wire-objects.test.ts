/**
 * The NovaObject versions we send are Nova 26's own: the table and every obj_tree_get_versions(name) equal
 * what Nova's registry says (Debian's python3-nova, nova.objects.register_all()); and the primitives we make
 * are ones Nova's own classes read back (obj_from_primitive), with the same obj_what_changed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ComputeNodeFields, HVSpecFields, ServiceFields } from '../../src/nova/compute-objects.js';
import { NOVA_26_OBJECTS, NOVA_26_SERVICE_VERSION, objectTreeVersions } from '../../src/nova/object-versions.js';
import { MalformedNovaObject, novaDateTime, WireObject } from '../../src/nova/wire-object.js';

const execFileAsync = promisify(execFile);

async function python(script: string, input = ''): Promise<unknown> {
  const child = execFileAsync('/usr/bin/python3', ['-c', script], { timeout: 60_000, maxBuffer: 16 << 20 });
  child.child.stdin!.end(input);
  const { stdout } = await child;
  return JSON.parse(stdout) as unknown;
}

const REGISTRY = `
import json, sys
from nova import objects
objects.register_all()
from nova.objects import base, service
from oslo_versionedobjects import base as ovo
names = json.loads(sys.stdin.read())
classes = base.NovaObjectRegistry.obj_classes()
print(json.dumps({'service_version': service.SERVICE_VERSION,
                  'versions': {n: classes[n][0].VERSION for n in names},
                  'trees': {n: ovo.obj_tree_get_versions(n) for n in names}}))
`;

test('every version in the table, and every object tree sent as object_versions, is what Nova 26\'s registry says', async () => {
  const names = Object.keys(NOVA_26_OBJECTS);
  const nova = (await python(REGISTRY, JSON.stringify(names))) as { service_version: number; versions: Record<string, string>; trees: Record<string, Record<string, string>> };
  expect(NOVA_26_SERVICE_VERSION).toBe(nova.service_version);
  expect(Object.fromEntries(names.map((name) => [name, NOVA_26_OBJECTS[name]![0]]))).toEqual(nova.versions);
  for (const name of names) expect([name, objectTreeVersions(name)]).toEqual([name, nova.trees[name]]);
}, 60_000);

const READ_BACK = `
import json, sys
from nova import objects
objects.register_all()
from nova.objects import base
prims = json.loads(sys.stdin.read())
out = []
for prim in prims:
    obj = base.NovaObject.obj_from_primitive(prim)
    out.append({'name': obj.obj_name(), 'version': obj.VERSION, 'changed': sorted(obj.obj_what_changed()),
                'again': obj.obj_to_primitive()})
print(json.dumps(out, default=str))
`;

test('Nova reads our Service and ComputeNode primitives back, with the same changes, and writes the same primitive', async () => {
  const service = new WireObject<ServiceFields>('Service', { host: 'h1', binary: 'nova-compute', topic: 'compute', report_count: 0, version: 64 });
  const node = new WireObject<ComputeNodeFields>('ComputeNode', {
    id: 7, uuid: '0b3f9a5e-9d5c-4b55-8a39-8d6b0a3c9c11', host: 'h1', vcpus: 16, memory_mb: 3072, local_gb: 40, vcpus_used: 0, memory_mb_used: 512,
    local_gb_used: 0, free_ram_mb: 2560, free_disk_gb: 40, hypervisor_type: 'QEMU', hypervisor_version: 7002000, hypervisor_hostname: 'h1',
    cpu_info: '{"arch": "x86_64"}', stats: { failed_builds: '0' }, numa_topology: null, host_ip: '192.0.2.10',
    supported_hv_specs: [new WireObject<HVSpecFields>('HVSpec', { arch: 'x86_64', hv_type: 'qemu', vm_mode: 'hvm' })],
    cpu_allocation_ratio: 16, ram_allocation_ratio: 1.5, disk_allocation_ratio: 1,
  });
  node.resetChanges();
  node.set('vcpus_used', 2);
  node.set('free_ram_mb', 2048);
  const sent = [service.toPrimitive(), node.toPrimitive()];
  const [novaService, novaNode] = (await python(READ_BACK, JSON.stringify(sent))) as { name: string; version: string; changed: string[]; again: Record<string, unknown> }[];
  expect(novaService).toMatchObject({ name: 'Service', version: '1.22', changed: ['binary', 'host', 'report_count', 'topic', 'version'] });
  // oslo's changes are a set turned list: their order is the set's.
  const sortChanges = (primitive: Record<string, unknown>) => ({ ...primitive, 'nova_object.changes': [...(primitive['nova_object.changes'] as string[])].sort() });
  expect(sortChanges(novaService!.again)).toEqual(sent[0]);
  expect(novaNode).toMatchObject({ name: 'ComputeNode', version: '1.19', changed: ['free_ram_mb', 'vcpus_used'] });
  expect(sortChanges(novaNode!.again)).toEqual(sent[1]);
}, 60_000);

test('changes: set marks a field even with the same value (oslo), update only when it differs; nested objects count', () => {
  const node = new WireObject<ComputeNodeFields>('ComputeNode', { vcpus: 4, stats: { a: '1' } });
  expect(node.whatChanged()).toEqual(['stats', 'vcpus']);
  node.resetChanges();
  expect(node.toPrimitive()).not.toHaveProperty(['nova_object.changes']);
  expect(node.update('vcpus', 4)).toBe(false);
  expect(node.update('stats', { a: '1' })).toBe(false);
  expect(node.whatChanged()).toEqual([]);
  node.set('vcpus', 4);
  expect(node.whatChanged()).toEqual(['vcpus']);
  node.resetChanges();
  const pools = new WireObject('PciDevicePoolList', { objects: [] });
  pools.resetChanges();
  node.set('pci_device_pools', pools);
  node.resetChanges();
  pools.set('objects', []);
  expect(node.whatChanged()).toEqual(['pci_device_pools']);
});

test('applyUpdates: the conductor\'s values replace ours, nested primitives decoded, changes = its obj_what_changed', () => {
  const service = new WireObject<ServiceFields>('Service', { host: 'h', report_count: 3 });
  service.applyUpdates({ id: 12, report_count: 3, updated_at: '2024-01-02T03:04:05Z', obj_what_changed: [] }, 'updates');
  expect(service.get('id')).toBe(12);
  expect(service.whatChanged()).toEqual([]);
  const node = new WireObject<ComputeNodeFields>('ComputeNode');
  node.applyUpdates({
    supported_hv_specs: [{ 'nova_object.name': 'HVSpec', 'nova_object.namespace': 'nova', 'nova_object.version': '1.2', 'nova_object.data': { arch: 'i686', hv_type: 'qemu', vm_mode: 'hvm' } }],
    obj_what_changed: ['metrics'],
  }, 'updates');
  expect(node.get('supported_hv_specs')![0]!.get('arch')).toBe('i686');
  expect(node.whatChanged()).toEqual(['metrics']);
});

test('a primitive of another name, namespace or major version is refused, naming the field', () => {
  const good = { 'nova_object.name': 'Service', 'nova_object.namespace': 'nova', 'nova_object.version': '1.23', 'nova_object.data': {} };
  expect(WireObject.fromPrimitive(good, 'result', 'Service').objName).toBe('Service');
  expect(() => WireObject.fromPrimitive({ ...good, 'nova_object.version': '2.0' }, 'result')).toThrow(/result\.nova_object\.version: is not a version of Service 1\.x/);
  expect(() => WireObject.fromPrimitive({ ...good, 'nova_object.namespace': 'glance' }, 'result')).toThrow(MalformedNovaObject);
  expect(() => WireObject.fromPrimitive(good, 'result', 'ComputeNode')).toThrow(/must be ComputeNode/);
  expect(novaDateTime(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe('2024-01-02T03:04:05Z');
});
