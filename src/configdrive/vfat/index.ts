/** Nova's VFAT config drive (`mkfs -t vfat -n config-2` on a 64 MiB file, tree copied in), built in-process. */
export { buildVfat } from './build.js';
export { readVfat } from './read.js';
export { DEFAULT_MINIMUM_SIZE, InvalidVfatOptionError, type VfatOptions } from './options.js';
export { InvalidVfatNameError } from './long-name.js';
export { VfatCapacityError } from './volume-size.js';
export { MalformedVfatError } from './malformed-image-error.js';
