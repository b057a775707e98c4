import { Fields } from './json-fields.js';
import type { ImageMeta } from './spawn-request.js';

/**
 * The `image` argument: the glance image dict Nova built with image/glance.py _translate_from_glance (base
 * attributes at the top, every other image property under `properties`) or, for a volume-backed server,
 * from the volume's image metadata.
 *
 * ImageMeta.properties holds strings, as glance stores them. _translate_from_glance JSON-decodes
 * `block_device_mapping` and `mappings` into lists; those and any other non-string value are kept as
 * their JSON text, so nothing the guest might be told about is lost.
 */
export function readImageMeta(value: unknown, path: string, { strict }: { strict: boolean }): ImageMeta {
  const fields = Fields.of(value, path);
  if (strict) fields.onlyKeys(IMAGE_KEYS);
  return {
    id: fields.nullableString('id'),
    name: fields.nullableString('name'),
    disk_format: fields.nullableString('disk_format'),
    container_format: fields.nullableString('container_format'),
    size: fields.nullableInteger('size'),
    checksum: fields.nullableString('checksum'),
    os_hash_algo: fields.nullableString('os_hash_algo'),
    os_hash_value: fields.nullableString('os_hash_value'),
    // Our plain request's schema says strings; Nova's dict may hold more.
    properties: fields.stringMap('properties', strict ? {} : { dropNulls: true, othersAsJson: true }),
  };
}

/** The keys of our plain request's image (docs/spawn-request.md); Nova's dict has more, which are ignored. */
const IMAGE_KEYS = [
  'id', 'name', 'disk_format', 'container_format', 'size', 'checksum', 'os_hash_algo', 'os_hash_value', 'properties',
];
