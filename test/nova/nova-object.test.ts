import { unwrapNovaObject } from '../../src/nova/nova-object.js';
import { expectInvalid } from './expect-invalid.js';

const primitive = (change: Record<string, unknown> = {}) => ({
  'nova_object.name': 'Flavor',
  'nova_object.namespace': 'nova',
  'nova_object.version': '1.2',
  'nova_object.data': { memory_mb: 512 },
  ...change,
});

test('a primitive opens to its name, version, changes and data read under its own path', () => {
  const flavor = unwrapNovaObject(primitive({ 'nova_object.changes': ['memory_mb'] }), 'instance.flavor', ['Flavor'], 1);
  expect({ name: flavor.name, version: flavor.version, changes: flavor.changes }).toEqual({ name: 'Flavor', version: '1.2', changes: ['memory_mb'] });
  expect(flavor.data.integer('memory_mb')).toBe(512);
  expect(flavor.data.at('memory_mb')).toBe('instance.flavor.memory_mb');
});

test.each(['1.0', '1.2', '1.9', '1.2.1'])('version %s of a 1.x object is read', (version) => {
  expect(unwrapNovaObject(primitive({ 'nova_object.version': version }), 'flavor', ['Flavor'], 1).version).toBe(version);
});

test.each([
  ['not an object', ['Flavor'], 'flavor', ['Flavor']],
  ['no name', primitive({ 'nova_object.name': undefined }), 'flavor.nova_object.name', undefined],
  ['another object', primitive({ 'nova_object.name': 'Instance' }), 'flavor.nova_object.name', 'Instance'],
  ['versioned_object namespace (an oslo.versionedobjects primitive, not Nova\'s)', primitive({ 'nova_object.namespace': 'versionedobjects' }), 'flavor.nova_object.namespace', 'versionedobjects'],
  ['no namespace', primitive({ 'nova_object.namespace': undefined }), 'flavor.nova_object.namespace', undefined],
  ['major 2', primitive({ 'nova_object.version': '2.0' }), 'flavor.nova_object.version', '2.0'],
  ['a version without minor', primitive({ 'nova_object.version': '1' }), 'flavor.nova_object.version', '1'],
  ['a version as a number', primitive({ 'nova_object.version': 1.2 }), 'flavor.nova_object.version', 1.2],
  ['no data', primitive({ 'nova_object.data': undefined }), 'flavor.nova_object.data', undefined],
  ['data a list', primitive({ 'nova_object.data': [] }), 'flavor.nova_object.data', []],
  ['changes not a list', primitive({ 'nova_object.changes': 'memory_mb' }), 'flavor.nova_object.changes', 'memory_mb'],
  ['a change that is no name', primitive({ 'nova_object.changes': [1] }), 'flavor.nova_object.changes[0]', 1],
])('%s is refused', (_, value, field, shown) => {
  expectInvalid(() => unwrapNovaObject(JSON.parse(JSON.stringify(value)), 'flavor', ['Flavor'], 1), field, shown);
});
