import type { Fields } from './json-fields.js';
import type { Flavor } from './spawn-request.js';

/**
 * A flavor's fields, from Nova's Flavor 1.x data or our plain request's `flavor` (same names). Nova's
 * embedded instance.flavor always carries all of them; the plain form may leave out the sizes that are
 * commonly 0 and the extra specs. Ranges are checked in validate.ts.
 */
export function readFlavor(fields: Fields): Flavor {
  return {
    name: fields.string('name'),
    flavorid: fields.string('flavorid'),
    vcpus: fields.integer('vcpus'),
    memory_mb: fields.integer('memory_mb'),
    root_gb: fields.integer('root_gb', 0),
    ephemeral_gb: fields.integer('ephemeral_gb', 0),
    swap: fields.integer('swap', 0),
    extra_specs: fields.stringMap('extra_specs'),
  };
}

export const FLAVOR_KEYS = ['name', 'flavorid', 'vcpus', 'memory_mb', 'root_gb', 'ephemeral_gb', 'swap', 'extra_specs'];
