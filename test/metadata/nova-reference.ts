/** Runs Nova's own InstanceMetadata (test/helpers/nova_config_drive.py) on the instance we build from. */
import { fileURLToPath } from 'node:url';
import type { BlockDevices } from '../../src/metadata/block-device-mapping.js';
import type { Ec2Ids } from '../../src/metadata/ec2-ids.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { runPython } from './python.js';

const HELPER = fileURLToPath(new URL('../helpers/nova_config_drive.py', import.meta.url));

export interface NovaDriveInput {
  request: SpawnRequest;
  dhcp_domain: string;
  config_drive_skip_versions: readonly string[];
  vendordata_providers: readonly string[];
  /** The text of the vendordata_jsonfile_path file, null when the option is unset. */
  vendordata_json: string | null;
  blockDevices: BlockDevices;
  ec2Ids: Ec2Ids;
  /** The seeds our side drew, in order: Nova's os.urandom(512) returns them. */
  randomSeeds: readonly Uint8Array[];
}

export interface NovaDrive {
  /** [path, bytes] in the order metadata_for_config_drive() yields them. */
  files: [string, Buffer][];
  urandomCalls: number;
}

export async function novaConfigDrive(input: NovaDriveInput): Promise<NovaDrive> {
  const { request, blockDevices, ec2Ids, randomSeeds, ...options } = input;
  const instance = request.instance;
  const document = {
    instance: { ...instance, user_data: instance.user_data === null ? null : instance.user_data.toString('base64') },
    injected_files: request.injected_files.map((file) => [file.path, file.contents.toString('base64')]),
    admin_password: request.admin_password,
    security_groups: request.security_groups,
    options,
    block_devices: blockDevices,
    ec2_ids: ec2Ids,
    random_seeds: randomSeeds.map((seed) => Buffer.from(seed).toString('base64')),
  };
  const result = JSON.parse(await runPython([HELPER], document)) as { files: [string, string][]; urandom_calls: number };
  return {
    files: result.files.map(([path, data]) => [path, Buffer.from(data, 'base64')]),
    urandomCalls: result.urandom_calls,
  };
}
