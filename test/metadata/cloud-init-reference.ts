/** Runs cloud-init's own config drive reader (test/helpers/cloudinit_read_config_drive.py) on a tree. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriveTree } from '../../src/configdrive/tree.js';
import { runPython } from './python.js';

const HELPER = fileURLToPath(new URL('../helpers/cloudinit_read_config_drive.py', import.meta.url));

export interface CloudInitView {
  /** The openstack/<version> directory cloud-init chose. */
  version: string;
  /** read_v2()'s result; bytes come as {base64}. */
  read_v2: Record<string, unknown>;
  /** DataSourceConfigDrive.get_public_ssh_keys(): what lands in authorized_keys. */
  public_ssh_keys: string[];
  /** convert_net_json(network_data, known_macs), null without network data. */
  network_config: { version: 1; config: Record<string, unknown>[] } | null;
}

/** Extracts the tree into a temporary directory (as mounting the drive would) and reads it. */
export async function readWithCloudInit(tree: DriveTree, knownMacs: Record<string, string>): Promise<CloudInitView> {
  const root = await mkdtemp(join(tmpdir(), 'nova-spawnd-metadata-'));
  try {
    for (const [path, data] of tree) {
      const file = join(root, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, data);
    }
    return await readDirectoryWithCloudInit(root, knownMacs);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** cloud-init's view of a drive's files already in a directory (extracted from an image by a reader). */
export async function readDirectoryWithCloudInit(root: string, knownMacs: Record<string, string>): Promise<CloudInitView> {
  return JSON.parse(await runPython([HELPER, root, JSON.stringify(knownMacs)], null)) as CloudInitView;
}

export function base64Of(value: unknown): Buffer {
  return Buffer.from((value as { base64: string }).base64, 'base64');
}
