import { join } from 'node:path';
import { checkDiskImage, toBuffer, writeDiskImage } from '../../../src/disk-image.js';
import { InvalidDrivePathError } from '../../../src/configdrive/tree.js';
import { toFatTimestamp } from '../../../src/configdrive/vfat/fat-time.js';
import { InvalidVfatNameError, InvalidVfatOptionError, VfatCapacityError, buildVfat, readVfat, type VfatOptions } from '../../../src/configdrive/vfat/index.js';
import { expectSameTree, makeTempDir, novaTypicalTree, readTreeFromDirectory, run } from './support.js';

const options: VfatOptions = { label: 'config-2', recordedAt: new Date('2024-05-06T07:08:09.500Z') };
const one = (name: string) => new Map([[name, Buffer.from('x')]]);

describe('options are checked, and an error names the option and its value', () => {
  test.each([
    [{ label: '' }, /option label = "": must be 1 to 11 characters/],
    [{ label: 'config-drive-2' }, /option label = "config-drive-2": must be 1 to 11 characters/],
    [{ label: 'config.2' }, /option label = "config.2": character "\." at index 6 is not allowed/],
    [{ label: 'café' }, /option label = "café": character "é" at index 3/],
    [{ label: ' config' }, /must not start with a space/],
    [{ label: 'NO NAME' }, /means "no label"/],
    [{ recordedAt: new Date('1979-12-31T23:59:59Z') }, /option recordedAt = .*1979.*: must be a valid Date in the years 1980\.\.2107/],
    [{ recordedAt: new Date('2108-01-01T00:00:00Z') }, /option recordedAt = .*2108/],
    [{ recordedAt: new Date(Number.NaN) }, /option recordedAt = Invalid Date/],
    [{ minimumSize: 0 }, /option minimumSize = 0: must be an integer from 1 to 2146435072/],
    [{ minimumSize: 1.5 }, /option minimumSize = 1\.5/],
    [{ minimumSize: 3 * 1024 ** 3 }, /option minimumSize = 3221225472/],
  ])('%j', (override, message) => {
    expect(() => buildVfat(one('a'), { ...options, ...override })).toThrow(InvalidVfatOptionError);
    expect(() => buildVfat(one('a'), { ...options, ...override })).toThrow(message);
  });
});

describe('names FAT cannot hold are refused, and the error names the path and the value', () => {
  test.each([
    ['dir/a:b', /path "dir\/a:b" cannot be stored on VFAT: character ":" at index 1/],
    ['what?', /character "\?" at index 4/],
    ['tab\there', /control character U\+0009 at index 3/],
    ['smile😀.txt', /character U\+1F600 at index 5 is outside the BMP \(LFN is UCS-2\)/],
    ['trailing.', /name ends with a dot or a space/],
    ['trailing ', /name ends with a dot or a space/],
    [`dir/${'n'.repeat(256)}`, /name is 256 UTF-16 code units, VFAT long names hold at most 255/],
  ])('%j', (path, message) => {
    expect(() => buildVfat(one(path), options)).toThrow(InvalidVfatNameError);
    expect(() => buildVfat(one(path), options)).toThrow(message);
  });

  test('two names that differ only in case', () => {
    const tree = new Map([['openstack/Latest/x', Buffer.from('1')], ['openstack/latest/x', Buffer.from('2')]]);
    expect(() => buildVfat(tree, options)).toThrow(/path "openstack\/latest" cannot be stored on VFAT: differs from "Latest" only in case/);
  });

  test('a 255-character name is fine', () => {
    expect(() => buildVfat(one('n'.repeat(255)), options)).not.toThrow();
  });

  test("the tree's own path rules still apply", () => {
    expect(() => buildVfat(one('/abs'), options)).toThrow(InvalidDrivePathError);
  });
});

describe('the image', () => {
  test('is the same for the same tree and options; the volume serial follows the options', () => {
    const tree = novaTypicalTree();
    const first = toBuffer(buildVfat(tree, options));
    expect(toBuffer(buildVfat(tree, options)).equals(first)).toBe(true);
    const later = toBuffer(buildVfat(tree, { ...options, recordedAt: new Date('2024-05-06T07:08:10Z') }));
    expect(later.readUInt32LE(39)).not.toBe(first.readUInt32LE(39));
  });

  test('is sparse: sorted extents hold only the metadata and the files, sharing the files\' bytes', () => {
    const tree = novaTypicalTree();
    const image = buildVfat(tree, options);
    checkDiskImage(image);
    const extentBytes = image.extents.reduce((sum, { bytes }) => sum + bytes.length, 0);
    const fileBytes = [...tree.values()].reduce((sum, bytes) => sum + bytes.length, 0);
    expect(extentBytes).toBeLessThan(fileBytes + 64 * 1024);
    const metaData = tree.get('openstack/latest/meta_data.json');
    expect(image.extents.some(({ bytes }) => bytes === metaData)).toBe(true);
    expect(image.extents.every(({ bytes }) => bytes.length > 0)).toBe(true);
  });

  test('timestamps are the recorded time in UTC, to 2 s, with the rest in the creation centiseconds', () => {
    expect(toFatTimestamp(new Date('2024-05-06T07:08:09.500Z'))).toEqual({
      date: ((2024 - 1980) << 9) | (5 << 5) | 6,
      time: (7 << 11) | (8 << 5) | 4,
      centiseconds: 150,
    });
    const root = toBuffer(buildVfat(one('a'), options)).subarray(133120, 133120 + 96);
    const file = 64; // label, a's LFN entry, then a's short entry
    expect({ centiseconds: root[file + 13], time: root.readUInt16LE(file + 22), date: root.readUInt16LE(file + 24) }).toEqual(toFatTimestamp(options.recordedAt));
  });

  test('grows past 64 MiB, by whole MiB, when the content needs it; the tools still read it', async () => {
    const big = Buffer.alloc(70 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    const tree = new Map([['openstack/content/0000', big], ['openstack/latest/meta_data.json', Buffer.from('{}')]]);
    const image = buildVfat(tree, options);
    expect(image.size).toBe(71 * 1024 * 1024);
    const temp = await makeTempDir();
    try {
      const path = join(temp.path, 'big.img');
      await writeDiskImage(path, image, { exclusive: true });
      expect(await run('fsck.fat', ['-n', path])).toMatchObject({ code: 0, stderr: '' });
      expect((await run('mcopy', ['-s', '-i', path, '::/', join(temp.path, 'out')])).code).toBe(0);
      expectSameTree(await readTreeFromDirectory(join(temp.path, 'out')), tree);
    } finally {
      await temp.remove();
    }
  });

  test('directories that exactly fill their space (no end-of-directory entry) read back everywhere', async () => {
    // The root: the label and 511 8.3 names fill its 512 entries; "FULL": ".", ".." and 62 names fill one cluster.
    const tree = new Map<string, Uint8Array>();
    for (let i = 0; i < 510; i++) tree.set(`R${i}`, Buffer.from(`${i}`));
    for (let i = 0; i < 62; i++) tree.set(`FULL/F${i}`, Buffer.from(`${i}`));
    const image = buildVfat(tree, options);
    const temp = await makeTempDir();
    try {
      const path = join(temp.path, 'full.img');
      await writeDiskImage(path, image, { exclusive: true });
      const bytes = toBuffer(image);
      expect(bytes.readUInt16LE(17)).toBe(512);
      expect(bytes[133120 + 511 * 32]).not.toBe(0);
      expect(bytes[149504 + 63 * 32]).not.toBe(0);
      expect(await run('fsck.fat', ['-n', path])).toMatchObject({ code: 0, stderr: '' });
      expect((await run('mcopy', ['-s', '-i', path, '::/', join(temp.path, 'out')])).code).toBe(0);
      expectSameTree(await readTreeFromDirectory(join(temp.path, 'out')), tree);
      expectSameTree(readVfat(bytes).tree, tree);
    } finally {
      await temp.remove();
    }
  });

  test('content no FAT16 volume holds is a VfatCapacityError', () => {
    const tree = new Map(Array.from({ length: 65536 }, (_, i) => [`F${i}`, new Uint8Array(0)] as const));
    expect(() => buildVfat(tree, options)).toThrow(VfatCapacityError);
    expect(() => buildVfat(tree, options)).toThrow(/65537 root directory entries/);
  });
});
