import type { Instance } from '../nova/spawn-request.js';

/**
 * The libvirt domain name: Nova's `[DEFAULT] instance_name_template` default, instance-%08x of the numeric
 * database id. A plain spawn request may carry no id; the uuid then stands in for it (`instance-<uuid>`),
 * which is as unique and cannot collide with a hex id.
 */
export function instanceName(instance: Pick<Instance, 'id' | 'uuid'>): string {
  return instance.id === null ? `instance-${instance.uuid}` : `instance-${instance.id.toString(16).padStart(8, '0')}`;
}
