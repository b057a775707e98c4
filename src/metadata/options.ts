import { randomBytes } from 'node:crypto';
import type { Instance } from '../nova/spawn-request.js';
import { ec2IdsFromUuids, type Ec2Ids } from './ec2-ids.js';
import type { JsonValue } from './python-json.js';
import { GRIZZLY, OPENSTACK_VERSION_DIRECTORIES, openstackVersionAtLeast, resolveOpenstackVersion } from './versions.js';

/** The settings Nova's metadata code reads, already parsed; names are Nova's [api] options where they exist. */
export interface MetadataOptions {
  /** [api] dhcp_domain: appended to the hostname; '' means the bare hostname. */
  dhcp_domain: string;
  /** [api] config_drive_skip_versions, already split on whitespace: EC2 versions left off the drive. */
  config_drive_skip_versions: readonly string[];
  /** [api] vendordata_providers: only StaticJSON is supported. */
  vendordata_providers: readonly string[];
  /** The parsed file of [api] vendordata_jsonfile_path (see parseVendorDataFile), null when unset. */
  vendor_data: JsonValue | null;
  /** 512 random bytes, called once per meta_data.json that has a random_seed. */
  randomSeed: () => Uint8Array;
  /** Nova's database-backed EC2 ids (see ec2-ids.ts). */
  ec2Ids: (instance: Instance) => Ec2Ids;
}

const SEED_BYTES = 512;
/** How many meta_data.json documents carry a random_seed: GRIZZLY and every later version, and latest. */
const SEEDS_PER_INSTANCE = OPENSTACK_VERSION_DIRECTORIES.filter((directory) => openstackVersionAtLeast(GRIZZLY, resolveOpenstackVersion(directory))).length;

/**
 * Nova's os.urandom(512) per document, drawn from the CSPRNG one instance's worth at a time: one
 * randomBytes() call costs about as much for 9 seeds as for one. Every seed is handed out once.
 */
function pooledRandomSeed(): () => Uint8Array {
  let pool: Uint8Array = new Uint8Array(0);
  return () => {
    if (pool.length === 0) pool = randomBytes(SEED_BYTES * SEEDS_PER_INSTANCE);
    const seed = pool.subarray(0, SEED_BYTES);
    pool = pool.subarray(SEED_BYTES);
    return seed;
  };
}

/** Nova's defaults, with the EC2 ids taken from the UUIDs. */
export const DEFAULT_METADATA_OPTIONS: MetadataOptions = {
  dhcp_domain: 'novalocal',
  config_drive_skip_versions: ['1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01'],
  vendordata_providers: ['StaticJSON'],
  vendor_data: null,
  randomSeed: pooledRandomSeed(),
  ec2Ids: ec2IdsFromUuids,
};

export class MetadataOptionsError extends Error {
  override readonly name = 'MetadataOptionsError';
  constructor(readonly option: string, readonly value: unknown, reason: string) {
    super(`${option} = ${JSON.stringify(value)}: ${reason}`);
  }
}

/** Fails on what this daemon cannot do, so a bad option stops it at start and not at the first spawn. */
export function validateMetadataOptions(options: MetadataOptions): void {
  for (const provider of options.vendordata_providers) {
    if (provider !== 'StaticJSON') {
      throw new MetadataOptionsError(
        '[api] vendordata_providers',
        provider,
        'only StaticJSON is supported (DynamicJSON needs Nova\'s keystone-authenticated REST calls)',
      );
    }
  }
}
