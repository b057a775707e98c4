/** Plain spawn requests for the tests: the documented example, and any SpawnRequest written in plain form. */
import { readFileSync } from 'node:fs';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';

/** The complete request shown in docs/spawn-request.md (its only ```json block). */
export function documentedExample(): Record<string, unknown> {
  const markdown = readFileSync(new URL('../../docs/spawn-request.md', import.meta.url), 'utf8');
  const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)];
  if (blocks.length !== 1) throw new Error(`docs/spawn-request.md has ${blocks.length} json blocks, expected 1`);
  return JSON.parse(blocks[0]![1]!) as Record<string, unknown>;
}

/** The only required fields. */
export const MINIMAL_PLAIN = {
  nova_spawnd: '1.0',
  uuid: '3f8c2f4e-5b7a-4c1d-9e2f-0a1b2c3d4e5f',
  project_id: 'p-1',
  user_id: 'u-1',
  flavor: { name: 'm1.tiny', flavorid: '1', vcpus: 1, memory_mb: 512 },
};

/** `request` with every field spelled out in plain form: the plain format can carry all a cast carries. */
export function toPlain({ instance, image, admin_password, injected_files, security_groups, context }: SpawnRequest): Record<string, unknown> {
  return {
    nova_spawnd: '1.0',
    uuid: instance.uuid,
    id: instance.id,
    name: instance.display_name,
    hostname: instance.hostname,
    project_id: instance.project_id,
    user_id: instance.user_id,
    flavor: instance.flavor,
    image,
    keypairs: instance.keypairs,
    user_data: instance.user_data?.toString('base64') ?? null,
    files: injected_files.map(({ path, contents }) => ({ path, contents_base64: contents.toString('base64') })),
    admin_pass: admin_password,
    meta: instance.metadata,
    system_metadata: instance.system_metadata,
    network_info: instance.network_info,
    config_drive: instance.config_drive,
    availability_zone: instance.availability_zone,
    launch_index: instance.launch_index,
    reservation_id: instance.reservation_id,
    launched_at: instance.launched_at,
    kernel_id: instance.kernel_id,
    ramdisk_id: instance.ramdisk_id,
    image_ref: instance.image_ref,
    root_device_name: instance.root_device_name,
    device_metadata: instance.device_metadata,
    dedicated_cpus: instance.dedicated_cpus,
    security_groups,
    context,
  };
}
