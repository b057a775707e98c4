import type { Instance } from '../nova/spawn-request.js';

/**
 * nova.objects.EC2Ids. Nova numbers instances and images for EC2 in its database (the ec2_instances and
 * s3_images tables hand out auto-increment ids); without that database the numbers have to come from
 * somewhere else, and the source is an option so that a deployment (or a test) can pin it.
 */
export interface Ec2Ids {
  /** i-%08x */
  instance_id: string;
  /** ami-%08x, null without an image (boot from volume) */
  ami_id: string | null;
  /** aki-%08x */
  kernel_id: string | null;
  /** ari-%08x */
  ramdisk_id: string | null;
}

export class Ec2IdError extends Error {
  override readonly name = 'Ec2IdError';
  constructor(readonly field: string, readonly value: string) {
    super(`instance.${field} ${JSON.stringify(value)} is not a UUID, so it has no EC2 id`);
  }
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function ec2Id(prefix: string, field: string, uuid: string): string {
  if (!UUID.test(uuid)) throw new Ec2IdError(field, uuid);
  return `${prefix}-${uuid.slice(0, 8).toLowerCase()}`;
}

/**
 * The default mapping: the %08x number is the first 32 bits of the UUID, so ami-1a2b3c4d is image
 * 1a2b3c4d-.... Stable across hosts and restarts with no state; two UUIDs sharing a prefix would share an
 * EC2 id, which only matters to EC2-era tools that use these ids as keys.
 */
export function ec2IdsFromUuids(instance: Instance): Ec2Ids {
  const imageId = (prefix: string, field: 'image_ref' | 'kernel_id' | 'ramdisk_id'): string | null => {
    const uuid = instance[field];
    // glance_id_to_ec2_id gives None for a missing or empty image id.
    return uuid ? ec2Id(prefix, field, uuid) : null;
  };
  return {
    instance_id: ec2Id('i', 'uuid', instance.uuid),
    ami_id: imageId('ami', 'image_ref'),
    kernel_id: imageId('aki', 'kernel_id'),
    ramdisk_id: imageId('ari', 'ramdisk_id'),
  };
}
