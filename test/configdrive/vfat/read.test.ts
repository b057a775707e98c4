import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { toBuffer } from '../../../src/disk-image.js';
import { MalformedVfatError, buildVfat, readVfat } from '../../../src/configdrive/vfat/index.js';
import { expectSameTree, makeTempDir, novaTypicalTree, run } from './support.js';

describe('reading a drive made by the real tools (mkfs.vfat + mcopy), as Nova would make it', () => {
  test('gives back the label and every file', async () => {
    const tree = novaTypicalTree();
    // A directory spanning several 2 KiB clusters, long names and an 8.3 lowercase name (mtools stores
    // that one with NT's lowercase flags instead of an LFN).
    for (let i = 0; i < 120; i++) tree.set(`openstack/many/a-rather-long-file-name-${i}.json`, Buffer.from(`${i}`));
    tree.set('openstack/big.bin', Buffer.alloc(100_000, 0xab));
    tree.set('openstack/empty', new Uint8Array(0));
    const temp = await makeTempDir();
    try {
      const source = join(temp.path, 'tree');
      for (const [path, bytes] of tree) {
        await mkdir(dirname(join(source, path)), { recursive: true });
        await writeFile(join(source, path), bytes);
      }
      const image = join(temp.path, 'nova.img');
      expect((await run('mkfs.vfat', ['-n', 'config-2', '-C', image, '65536'])).code).toBe(0);
      expect(await run('mcopy', ['-s', '-i', image, join(source, 'ec2'), join(source, 'openstack'), '::/'])).toMatchObject({ code: 0, stderr: '' });

      const read = readVfat(await readFile(image));
      expect(read.label).toBe('config-2');
      expectSameTree(read.tree, tree);
    } finally {
      await temp.remove();
    }
  });
});

describe('a malformed image is a MalformedVfatError that says what and where', () => {
  // Clusters are 2 KiB; allocation follows name order: a.bin 2-4, b.bin 5, dir 6, dir/c 7.
  const tree = new Map<string, Uint8Array>([
    ['a.bin', Buffer.alloc(5000, 1)],
    ['b.bin', Buffer.alloc(10, 2)],
    ['dir/c', Buffer.alloc(10, 3)],
  ]);
  const good = (): Buffer => toBuffer(buildVfat(tree, { label: 'config-2', recordedAt: new Date('2024-01-01T00:00:00Z') }));
  const FAT = 2048;
  const ROOT = 133120;
  const DATA = 149504;
  const setFatEntry = (image: Buffer, cluster: number, value: number): void => {
    image.writeUInt16LE(value, FAT + cluster * 2);
  };
  const shortEntry = (image: Buffer, name: string, from = ROOT): number => image.indexOf(name, from, 'latin1');
  const expectMalformed = (image: Uint8Array, message: RegExp): void => {
    let error: unknown;
    try {
      readVfat(image);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MalformedVfatError);
    expect((error as Error).message).toMatch(message);
  };

  test('the unmodified image reads back', () => {
    const read = readVfat(good());
    expect(read.label).toBe('config-2');
    expectSameTree(read.tree, tree);
  });

  test('too short for a boot sector', () => {
    expectMalformed(new Uint8Array(100), /image length is 100: shorter than a 512-byte boot sector/);
  });

  test('no boot signature', () => {
    const image = good();
    image[510] = 0;
    expectMalformed(image, /boot sector signature \(offset 510\) is 43520/);
  });

  test('FAT32 (no 16-bit FAT size)', () => {
    const image = good();
    image.writeUInt16LE(0, 22);
    expectMalformed(image, /sectors per FAT \(offset 22\) is 0: expected more than 0 \(0 means FAT32/);
  });

  test('truncated image', () => {
    expectMalformed(good().subarray(0, 1024 * 1024), /image length is 1048576: the boot sector declares 131072 sectors/);
  });

  test('a FAT12-sized volume', async () => {
    const temp = await makeTempDir();
    try {
      const image = join(temp.path, 'fat12.img');
      expect((await run('mkfs.vfat', ['-F', '12', '-C', image, '4096'])).code).toBe(0);
      expectMalformed(await readFile(image), /data cluster count \(from the boot sector\) is \d+: FAT16 has 4085\.\.65524/);
    } finally {
      await temp.remove();
    }
  });

  test('a cluster chain that loops ends in an error, not a hang', () => {
    const image = good();
    setFatEntry(image, 4, 2);
    expectMalformed(image, /FAT entry of cluster 4 \(in the chain of file "\/a\.bin"\) is 2: cluster already belongs to a chain \(loop or cross-link\)/);
  });

  test('two files sharing a cluster', () => {
    const image = good();
    image.writeUInt16LE(4, shortEntry(image, 'B       BIN') + 26);
    expectMalformed(image, /first cluster of file "\/b\.bin" is 4: cluster already belongs to a chain/);
  });

  test('a directory that contains itself', () => {
    const image = good();
    const dir = shortEntry(image, 'DIR        ');
    // In "dir", after ".", ".." and c's LFN entry: c's short entry. Make it a subdirectory at dir's own cluster.
    const c = DATA + (6 - 2) * 2048 + 3 * 32;
    expect(image.toString('latin1', c, c + 11)).toBe('C          ');
    image[c + 11] = 0x10;
    image.writeUInt16LE(image.readUInt16LE(dir + 26), c + 26);
    expectMalformed(image, /first cluster of directory "\/dir\/c" is 6: cluster already belongs to a chain/);
  });

  test('a chain running into a free cluster', () => {
    const image = good();
    setFatEntry(image, 3, 0);
    expectMalformed(image, /FAT entry of cluster 3 \(in the chain of file "\/a\.bin"\) is 0: free cluster inside a chain/);
  });

  test('a first cluster outside the data area', () => {
    const image = good();
    image.writeUInt16LE(40000, shortEntry(image, 'B       BIN') + 26);
    expectMalformed(image, /first cluster of file "\/b\.bin" is 40000: not a data cluster \(2\.\.32696\)/);
  });

  test('a size that does not match the chain', () => {
    const image = good();
    image.writeUInt32LE(50_000, shortEntry(image, 'A       BIN') + 28);
    expectMalformed(image, /cluster chain of file "\/a\.bin" \(entry \d+ of directory "\/"\) is 3: a 50000-byte file takes 25 clusters/);
  });

  test('the same name twice in a directory', () => {
    const image = good();
    // Overwrite b.bin's LFN with a.bin's (same length), fixing the checksum to b.bin's short name.
    const a = shortEntry(image, 'A       BIN');
    const b = shortEntry(image, 'B       BIN');
    const lfn = Buffer.from(image.subarray(a - 32, a));
    lfn[13] = image[b - 32 + 13]!;
    lfn.copy(image, b - 32);
    expectMalformed(image, /entry \d+ of directory "\/" is "a\.bin": name appears twice in the directory/);
  });

  test('the error is a MalformedVfatError with where and value', () => {
    const image = good();
    setFatEntry(image, 3, 0);
    expect(() => readVfat(image)).toThrow(expect.objectContaining({ name: 'MalformedVfatError', value: 0, where: expect.stringContaining('cluster 3') }));
  });
});
