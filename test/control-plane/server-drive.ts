/**
 * A control-plane server's config drive against what Nova's own InstanceMetadata writes for it from cell1's
 * database (test/metadata/nova-reference.ts novaServerDrive), every file compared.
 */
import type { DriveTree } from '../../src/configdrive/tree.js';
import { OPENSTACK_VERSION_DIRECTORIES } from '../../src/metadata/versions.js';
import { novaServerDrive, type NovaDrive, type NovaServerDriveInput } from '../metadata/nova-reference.js';

const text = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

/**
 * Each meta_data.json's random_seed, in the order Nova draws them (one os.urandom(512) per document, by
 * version): checked for their form, base64 of 512 bytes, one of its own per document.
 */
export function randomSeeds(drive: DriveTree): Buffer[] {
  const seeds: string[] = [];
  for (const directory of OPENSTACK_VERSION_DIRECTORIES) {
    const seed = (JSON.parse(text(drive.get(`openstack/${directory}/meta_data.json`))) as { random_seed?: string }).random_seed;
    if (seed === undefined) continue;
    expect({ directory, bytes: Buffer.from(seed, 'base64').length, canonical: Buffer.from(seed, 'base64').toString('base64') === seed }).toEqual({ directory, bytes: 512, canonical: true });
    seeds.push(seed);
  }
  expect(new Set(seeds).size).toBe(seeds.length);
  return seeds.map((seed) => Buffer.from(seed, 'base64'));
}

/**
 * Expects `drive` to hold what Nova's own InstanceMetadata writes for the server, byte for byte: the random
 * seeds are the only bytes a build draws, so Nova's os.urandom returns ours and the rest is compared whole.
 * Nova's drive, for what else the caller checks.
 */
export async function expectDriveAsNova(drive: DriveTree, input: Omit<NovaServerDriveInput, 'randomSeeds'>): Promise<NovaDrive> {
  const seeds = randomSeeds(drive);
  const nova = await novaServerDrive({ ...input, randomSeeds: seeds });
  expect(nova.urandomCalls).toBe(seeds.length);
  // Path -> bytes as latin1 text (one character per byte): one comparison that shows every file that differs.
  const asText = (files: Iterable<[string, Uint8Array]>) => Object.fromEntries([...files].map(([path, data]) => [path, Buffer.from(data).toString('latin1')]));
  expect(asText(drive)).toEqual(asText(nova.files));
  return nova;
}
