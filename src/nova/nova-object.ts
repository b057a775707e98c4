import { parseVersion } from '../bus/oslo-version.js';
import { InvalidComputeRequest } from './invalid-compute-request.js';
import { childPath, expectList, expectObject, expectString, Fields } from './json-fields.js';

/**
 * A NovaObject primitive as NovaObjectSerializer puts it on the wire (oslo.versionedobjects
 * obj_to_primitive with Nova's "nova_object" serial namespace):
 * {"nova_object.name", "nova_object.namespace": "nova", "nova_object.version", "nova_object.data",
 * "nova_object.changes"?}. Only fields that were set appear in data; Nova would lazy-load the others from
 * its database, which a compute-side daemon does not have, so callers give them defaults.
 */
export interface NovaObjectPrimitive {
  name: string;
  version: string;
  /** Read with the object's own path: `instance.uuid`, not `instance.nova_object.data.uuid`. */
  data: Fields;
  changes: string[];
}

/**
 * Opens a primitive whose name is one of `names` and whose major version is `major`. A newer minor is
 * accepted: versioned objects only add fields within a major, and the fields read here exist in all of them.
 */
export function unwrapNovaObject(value: unknown, path: string, names: readonly string[], major: number): NovaObjectPrimitive {
  const primitive = new Fields(expectObject(value, path), path);
  const key = (field: string) => `nova_object.${field}`;

  const name = expectString(primitive.required(key('name')), childPath(path, key('name')));
  if (!names.includes(name)) {
    throw new InvalidComputeRequest(childPath(path, key('name')), name, `must be ${names.join(' or ')}`);
  }
  const namespace = primitive.raw(key('namespace'));
  if (namespace !== 'nova') throw new InvalidComputeRequest(childPath(path, key('namespace')), namespace, 'must be "nova"');

  const version = expectString(primitive.required(key('version')), childPath(path, key('version')));
  const parsed = parseVersion(version);
  if (!parsed || parsed[0] !== major) {
    throw new InvalidComputeRequest(childPath(path, key('version')), version, `is not a supported ${name} version (${major}.x)`);
  }

  const changesPath = childPath(path, key('changes'));
  const changes = primitive.has(key('changes'))
    ? expectList(primitive.raw(key('changes')), changesPath).map((change, index) => expectString(change, childPath(changesPath, index)))
    : [];
  const data = expectObject(primitive.required(key('data')), childPath(path, key('data')));
  return { name, version, data: new Fields(data, path), changes };
}

/** An ObjectField that may be unset or null (Nova's nullable=True): null when either, else the primitive. */
export function optionalNovaObject(
  fields: Fields,
  key: string,
  names: readonly string[],
  major: number,
): NovaObjectPrimitive | null {
  const value = fields.raw(key) ?? null;
  return value === null ? null : unwrapNovaObject(value, fields.at(key), names, major);
}
