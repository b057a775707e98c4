/**
 * Runs Nova's own InstanceMetadata (test/helpers/nova_config_drive.py) on the instance we build from, or
 * (nova_server_drive.py) on a server of the control plane as its database holds it.
 */
import { join } from 'node:path';
import type { BlockDevices } from '../../src/metadata/block-device-mapping.js';
import type { Ec2Ids } from '../../src/metadata/ec2-ids.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { runPython } from './python.js';

// From the package root, so bench/ (run from dist/) finds it too.
const HELPER = join(PACKAGE_ROOT, 'test/helpers/nova_config_drive.py');
const SERVER_HELPER = join(PACKAGE_ROOT, 'test/helpers/nova_server_drive.py');

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

/** The JSON document nova_config_drive.py reads: the instance as build_and_run_instance carries it. */
export function helperDocument(input: NovaDriveInput): Record<string, unknown> {
  const { request, blockDevices, ec2Ids, randomSeeds, ...options } = input;
  const instance = request.instance;
  return {
    instance: { ...instance, user_data: instance.user_data === null ? null : instance.user_data.toString('base64') },
    injected_files: request.injected_files.map((file) => [file.path, file.contents.toString('base64')]),
    admin_password: request.admin_password,
    security_groups: request.security_groups,
    options,
    block_devices: blockDevices,
    ec2_ids: ec2Ids,
    random_seeds: randomSeeds.map((seed) => Buffer.from(seed).toString('base64')),
  };
}

function novaDrive(stdout: string): NovaDrive {
  const result = JSON.parse(stdout) as { files: [string, string][]; urandom_calls: number };
  return {
    files: result.files.map(([path, data]) => [path, Buffer.from(data, 'base64')]),
    urandomCalls: result.urandom_calls,
  };
}

export async function novaConfigDrive(input: NovaDriveInput): Promise<NovaDrive> {
  return novaDrive(await runPython([HELPER], helperDocument(input)));
}

export interface NovaServerDriveInput {
  /** nova.conf files in oslo.config order: the control plane's, then the compute host's. */
  configFiles: readonly string[];
  uuid: string;
  /** The adminPass nova-api answered the POST with (the libvirt driver's extra_md), null if none. */
  adminPassword: string | null;
  /** What Nova's os.urandom(512) returns, in turn. */
  randomSeeds: readonly Uint8Array[];
}

/** The drive Nova's libvirt driver would write for a server of the control plane, from its database. */
export async function novaServerDrive(input: NovaServerDriveInput): Promise<NovaDrive> {
  return novaDrive(
    await runPython([SERVER_HELPER], {
      config_files: input.configFiles,
      uuid: input.uuid,
      admin_password: input.adminPassword,
      random_seeds: input.randomSeeds.map((seed) => Buffer.from(seed).toString('base64')),
    }),
  );
}

/** Seconds per run of Nova's own pipeline (InstanceMetadata + make_drive with genisoimage), for bench/. */
export async function novaPipelineSeconds(input: NovaDriveInput, runs: number, scratch: string): Promise<number[]> {
  const result = JSON.parse(await runPython([HELPER, '--bench', String(runs), scratch], helperDocument(input))) as { seconds: number[] };
  return result.seconds;
}
