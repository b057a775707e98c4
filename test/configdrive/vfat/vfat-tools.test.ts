import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDiskImage } from '../../../src/disk-image.js';
import { decodeBootSector } from '../../../src/configdrive/vfat/boot-sector.js';
import { buildVfat } from '../../../src/configdrive/vfat/index.js';
import { expectSameTree, makeTempDir, novaTypicalTree, readTreeFromDirectory, run } from './support.js';

/**
 * A Nova-typical config drive built by buildVfat, written sparsely, then checked by the real FAT tools
 * (dosfstools, mtools, util-linux) and against what `mkfs.vfat -n config-2` makes of a 64 MiB file.
 */
const tree = novaTypicalTree();
const directories = new Set([...tree.keys()].flatMap((path) => path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
const recordedAt = new Date('2024-05-06T07:08:09.500Z');
let temp: Awaited<ReturnType<typeof makeTempDir>>;
let image: string;
let reference: string;

beforeAll(async () => {
  temp = await makeTempDir();
  image = join(temp.path, 'disk.config');
  reference = join(temp.path, 'ref.img');
  await writeDiskImage(image, buildVfat(tree, { label: 'config-2', recordedAt }), { exclusive: true });
  const mkfs = await run('mkfs.vfat', ['-n', 'config-2', '-C', reference, '65536']);
  expect(mkfs.code).toBe(0);
});

afterAll(() => temp.remove());

test('fsck.fat -n finds nothing to complain about', async () => {
  const fsck = await run('fsck.fat', ['-n', image]);
  // fsck.fat counts files, directories and the volume label entry; each of them takes one cluster here.
  const entries = tree.size + directories.size + 1;
  expect(fsck).toEqual({
    code: 0,
    stdout: expect.stringMatching(new RegExp(`^fsck\\.fat [^\\n]+\\n[^\\n]+: ${entries} files, ${entries - 1}/32695 clusters\\n$`)),
    stderr: '',
  });
});

test('mcopy -s extracts every file byte for byte', async () => {
  const destination = join(temp.path, 'extracted');
  const mcopy = await run('mcopy', ['-s', '-n', '-i', image, '::/', destination]);
  expect(mcopy.code).toBe(0);
  expectSameTree(await readTreeFromDirectory(destination), tree);
});

test('mdir lists the long names, sizes and the recorded UTC time', async () => {
  const bare = await run('mdir', ['-/', '-b', '-i', image, '::']);
  expect(bare.code).toBe(0);
  expect(bare.stdout.trim().split('\n').sort()).toEqual([...[...tree.keys()].map((path) => `::/${path}`), ...[...directories].map((path) => `::/${path}/`)].sort());

  const listing = await run('mdir', ['-/', '-a', '-i', image, '::']);
  expect(listing.stdout).toContain('Volume in drive : is config-2');
  // mdir shows the short name, the size, the date and time, then the long name where there is one.
  const metaData = tree.get('openstack/latest/meta_data.json')!.length;
  expect(listing.stdout).toMatch(new RegExp(`META_D~1 JSO +${metaData} 2024-05-06 +7:08 +meta_data\\.json`));
  expect(listing.stdout).toMatch(/2012-0~1 +<DIR> +2024-05-06 +7:08 +2012-08-10/);
  const content = tree.get('openstack/content/0000')!.length;
  expect(listing.stdout).toMatch(new RegExp(`\\n0000 +${content} 2024-05-06 +7:08 *\\n`));
});

test('mlabel and blkid see the label config-2 and a vfat filesystem, as on the mkfs.vfat reference', async () => {
  expect((await run('mlabel', ['-s', '-i', image, '::'])).stdout).toBe(' Volume label is config-2   \n');
  const probe = async (path: string): Promise<Map<string, string>> => {
    const blkid = await run('blkid', ['-p', '-o', 'export', path]);
    expect(blkid.code).toBe(0);
    return new Map(blkid.stdout.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
  };
  const ours = await probe(image);
  const theirs = await probe(reference);
  expect(ours.get('LABEL')).toBe('config-2');
  expect(ours.get('TYPE')).toBe('vfat');
  for (const key of ['DEVNAME', 'UUID']) {
    ours.delete(key);
    theirs.delete(key);
  }
  expect(ours).toEqual(theirs);
});

test('the boot sector, FAT head and label entry match mkfs.vfat -n config-2 on 64 MiB', async () => {
  const [ours, theirs] = await Promise.all([readFile(image), readFile(reference)]);
  const pick = (bytes: Buffer) => {
    const { volumeSerial: _serial, ...fields } = decodeBootSector(bytes);
    return fields;
  };
  expect(pick(ours)).toEqual(pick(theirs));
  expect(pick(ours)).toMatchObject({ bytesPerSector: 512, sectorsPerCluster: 4, reservedSectors: 4, fatCount: 2, rootEntryCount: 512, media: 0xf8, sectorsPerFat: 128, totalSectors: 131072, fileSystemType: 'FAT16   ', volumeLabel: 'config-2   ' });
  // Drive number, reserved byte, extended boot signature; then the 0x55AA signature.
  expect(ours.subarray(36, 39)).toEqual(theirs.subarray(36, 39));
  expect(ours.subarray(510, 512)).toEqual(theirs.subarray(510, 512));
  for (const fat of [2048, 2048 + 65536]) expect(ours.subarray(fat, fat + 4)).toEqual(theirs.subarray(fat, fat + 4));
  // The root directory's first entry: the label, attribute 0x08.
  expect(ours.subarray(133120, 133120 + 12)).toEqual(theirs.subarray(133120, 133120 + 12));
});

test('the file is sparse: 64 MiB long, a few hundred KiB allocated', async () => {
  const { size, blocks } = await stat(image);
  expect(size).toBe(64 * 1024 * 1024);
  expect(blocks * 512).toBeLessThan(1024 * 1024);
});
