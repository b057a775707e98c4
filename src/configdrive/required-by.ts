import type { ImageMeta, Instance } from '../nova/spawn-request.js';

/**
 * nova.virt.configdrive.required_by: the instance asked for a drive (Nova stores "True", and Python takes
 * any non-empty string as true), or the operator forces drives (only for instances never launched: a
 * launched one may have been configured from the metadata service and has no drive device), or the image
 * demands one (img_config_drive=mandatory).
 */
export function requiredBy(
  instance: Pick<Instance, 'config_drive' | 'launched_at'>,
  image: Pick<ImageMeta, 'properties'>,
  options: { force_config_drive: boolean },
): boolean {
  return (
    instance.config_drive !== '' ||
    (options.force_config_drive && !instance.launched_at) ||
    image.properties['img_config_drive'] === 'mandatory'
  );
}
