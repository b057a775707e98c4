import { readFile, rm } from 'node:fs/promises';
import { buildIso, MalformedIsoError, readIso } from '../../../src/configdrive/iso9660/index.js';
import { planLayout, type PlannedRecord } from '../../../src/configdrive/iso9660/layout.js';
import { toDirectoryTree, type DriveTree } from '../../../src/configdrive/tree.js';
import { genisoimage, makeTempDir, sha256 } from './helpers/readers.js';
import { novaTree, prng } from './helpers/trees.js';

const SECTOR = 2048;
const OPTIONS = { volumeId: 'config-2', publisher: 'nova-spawnd 0.1.0', recordedAt: new Date('2024-01-02T03:04:05Z') };
const hashes = (tree: DriveTree): Record<string, string> =>
  Object.fromEntries([...tree].map(([path, data]) => [path, sha256(data)]));

describe('reading our own images', () => {
  test('gives back Rock Ridge names of any length and script, empty files and the volume id', () => {
    const tree = new Map<string, Uint8Array>([
      ['openstack/latest/meta_data.json', Buffer.from('{"uuid": "x"}')],
      ['openstack/content/0000', new Uint8Array(0)],
      [`long/${'\u65e5\u672c'.repeat(40)}.json`, Buffer.from('long name')],
      ['long/a-b', Buffer.from('1')],
      ['long/a_b', Buffer.from('2')],
      ['long/A_B', Buffer.from('3')],
    ]);
    const { volumeId, tree: read } = readIso(buildIso(tree, { ...OPTIONS, volumeId: 'CONFIG-2' }));
    expect(volumeId).toBe('CONFIG-2');
    expect(hashes(read)).toEqual(hashes(tree));
    expect([...read.keys()]).toEqual([...read.keys()].sort());
  });

  test('does not alias the image: the tree stays when the image buffer is reused', () => {
    const image = buildIso(new Map([['a', Buffer.from('abc')]]), OPTIONS);
    const read = readIso(image);
    image.fill(0);
    expect(Buffer.from(read.tree.get('a')!).toString()).toBe('abc');
  });
});

describe("reading genisoimage's images picks the best names present", () => {
  const tree = new Map<string, Uint8Array>([
    ['openstack/2012-08-10/meta_data.json', Buffer.from('{}')],
    ['openstack/latest/user_data', Buffer.from('#!/bin/sh\n')],
    ['ec2/2009-04-04/meta-data.json', Buffer.from('{"a": 1}')],
  ]);
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const readWith = async (flags: string[]): Promise<Record<string, string>> =>
    hashes(readIso(await readFile(await genisoimage(tree, dir, ['-quiet', '-V', 'config-2', ...flags], OPTIONS.recordedAt))).tree);

  test('Rock Ridge before Joliet (-r -J)', async () => {
    expect(await readWith(['-r', '-J'])).toEqual(hashes(tree));
  });

  test('Joliet when there is no Rock Ridge (-J)', async () => {
    expect(await readWith(['-J'])).toEqual(hashes(tree));
  });

  test('primary identifiers without version or trailing dot when there is neither', async () => {
    expect(Object.keys(await readWith(['-l', '-allow-lowercase']))).toEqual([
      'ec2/2009_04_04/meta_data.json',
      'openstack/2012_08_10/meta_data.json',
      'openstack/latest/user_data',
    ]);
  });
});

describe('malformed images are refused with the place and the reason', () => {
  const tree = novaTree();
  const image = buildIso(tree, OPTIONS);
  const layout = planLayout(toDirectoryTree(tree));
  const root = layout.primary.directories[0]!;
  /** The root's record of `openstack` (a directory) and a file record in the first leaf directory. */
  const openstack = root.records.find((r) => Buffer.from(r.identifier).toString() === 'openstack')!;
  const leaf = layout.primary.directories.find((d) => d.records.some((r) => r.target.kind === 'file'))!;
  const fileRecord = leaf.records.find((r) => r.target.kind === 'file')!;
  const at = (record: PlannedRecord, directory = root): number => directory.extent * SECTOR + record.offset;

  const corrupt = (change: (copy: Buffer) => void): Buffer => {
    const copy = Buffer.from(image);
    change(copy);
    return copy;
  };
  const both32 = (buf: Buffer, offset: number, value: number): void => {
    buf.writeUInt32LE(value, offset);
    buf.writeUInt32BE(value, offset + 4);
  };

  test.each<[string, (copy: Buffer) => Buffer | void, RegExp]>([
    ['an image too small for a descriptor', () => image.subarray(0, 16 * SECTOR + 100), /sector 16, offset 0: no volume descriptor set terminator before the end of the image \(32868 bytes\)/],
    ['no CD001', (copy) => void copy.write('CD002', 16 * SECTOR + 1), /sector 16, offset 1: volume descriptor standard identifier is "CD002", not "CD001"/],
    ['no terminator', (copy) => void copy.fill(0, 18 * SECTOR, 19 * SECTOR), /sector 18, offset 1: volume descriptor standard identifier is "(\\u0000){5}", not "CD001"/],
    ['no primary descriptor', (copy) => void (copy[16 * SECTOR] = 0), /sector 16, offset 0: no primary volume descriptor/],
    ['another block size', (copy) => void copy.writeUInt16LE(512, 16 * SECTOR + 128), /sector 16, offset 128: logical block size is 512/],
    ['a root beyond the image', (copy) => both32(copy, 16 * SECTOR + 156 + 2, 99999), /sector 16, offset 156: extent at sector 99999 with 2048 bytes ends beyond the image/],
    ['an identifier longer than its record', (copy) => void (copy[at(openstack) + 32] = 250), /identifier length 250 exceeds the record length/],
    ['a file beyond the image', (copy) => both32(copy, at(fileRecord, leaf) + 2, 0x7fffffff), new RegExp(`sector ${leaf.extent}, offset ${fileRecord.offset}: extent at sector 2147483647`)],
    ['a truncated image', () => image.subarray(0, layout.files.at(-1)!.extent * SECTOR), /ends beyond the image/],
    ['a directory loop', (copy) => both32(copy, at(openstack) + 2, root.extent), new RegExp(`directory "openstack" reuses the extent at sector ${root.extent}`)],
    ['a multi-extent file', (copy) => void (copy[at(fileRecord, leaf) + 25] = 0x80), /multi-extent files are not supported/],
  ])('%s', (_name, change, message) => {
    const broken = (() => {
      const copy = Buffer.from(image);
      return change(copy) ?? copy;
    })();
    expect(() => readIso(broken)).toThrow(MalformedIsoError);
    expect(() => readIso(broken)).toThrow(message);
  });

  test('a record crossing its sector', () => {
    const crowded = new Map<string, Uint8Array>();
    for (let i = 0; i < 100; i++) crowded.set(`d/file-${i}`, Buffer.from(`${i}`));
    const crowdedLayout = planLayout(toDirectoryTree(crowded));
    const directory = crowdedLayout.primary.directories[1]!;
    const lastInSector = directory.records.filter((r) => r.offset < SECTOR).at(-1)!;
    const broken = Buffer.from(buildIso(crowded, OPTIONS));
    broken[directory.extent * SECTOR + lastInSector.offset] = SECTOR - lastInSector.offset + 2;
    expect(() => readIso(broken)).toThrow(
      new MalformedIsoError(
        directory.extent * SECTOR + lastInSector.offset,
        `directory record length ${SECTOR - lastInSector.offset + 2} does not fit (needs 34 bytes, within one sector)`,
      ),
    );
  });

  test('two entries of one name', () => {
    const twins = new Map([
      ['d/name1', Buffer.from('1')],
      ['d/name2', Buffer.from('2')],
    ]);
    const broken = Buffer.from(buildIso(twins, OPTIONS));
    const nm = broken.indexOf(Buffer.from('NM\x0a\x01\x00name2', 'latin1'));
    expect(nm).toBeGreaterThan(0);
    broken.write('1', nm + 9, 'latin1');
    expect(() => readIso(broken)).toThrow(/"d\/name1" appears twice/);
  });

  test('random corruption of the metadata gives a tree or a MalformedIsoError, never anything else', () => {
    const random = prng(20240102);
    const metadataEnd = layout.files.find((f) => f.extent > 0)!.extent * SECTOR;
    const outcomes = { read: 0, refused: 0 };
    for (let round = 0; round < 3000; round++) {
      const broken = corrupt((copy) => {
        for (let n = 1 + Math.floor(random() * 8); n > 0; n--) {
          copy[16 * SECTOR + Math.floor(random() * (metadataEnd - 16 * SECTOR))] = Math.floor(random() * 256);
        }
      });
      try {
        readIso(broken);
        outcomes.read++;
      } catch (error) {
        if (!(error instanceof MalformedIsoError)) throw new Error(`round ${round}: ${String(error)}`);
        outcomes.refused++;
      }
    }
    expect(outcomes.read).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
