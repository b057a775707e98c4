/**
 * A Nova-like config drive written by buildIso() and read back by the real readers: isoinfo (primary,
 * Rock Ridge, Joliet), xorriso, pycdlib, blkid, and compared with what genisoimage itself makes of the same
 * tree with Nova's flags.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildIso, readIso, type IsoOptions } from '../../../src/configdrive/iso9660/index.js';
import {
  allPaths,
  checkWithPython,
  genisoimage,
  jolietPaths,
  makeTempDir,
  NOVA_GENISOIMAGE_FLAGS,
  run,
  sha256,
  xorrisoExtract,
} from './helpers/readers.js';
import { novaTree } from './helpers/trees.js';

const OPTIONS: IsoOptions = {
  volumeId: 'config-2',
  publisher: 'nova-spawnd 0.1.0',
  recordedAt: new Date('2024-02-29T13:14:15Z'),
};

const tree = novaTree();
const image = buildIso(tree, OPTIONS);

const hashes = (files: ReadonlyMap<string, Uint8Array>, prefix = ''): Record<string, string> =>
  Object.fromEntries([...files].map(([path, data]) => [`${prefix}${path}`, sha256(data)]));

/** `isoinfo ... -l` (or -p) output with extent numbers masked: layouts differ, the rest should not. */
async function isoinfoListing(imagePath: string, flags: string[]): Promise<string> {
  const { stdout } = await run('isoinfo', [...flags, '-i', imagePath]);
  return stdout
    .replace(/\[ *\d+ (\d\d)\]/g, '[ X $1]')
    .replace(/^( *\d+: +\d+ )[0-9a-f]+ /gm, '$1X ')
    .replace(/^Path table starts at block \d+/m, 'Path table starts at block X');
}

describe('a Nova-like config drive', () => {
  let dir: string;
  let imagePath: string;

  beforeAll(async () => {
    dir = await makeTempDir();
    imagePath = join(dir, 'disk.config');
    await writeFile(imagePath, image);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('is a whole number of 4 KiB blocks and the same bytes on every build', () => {
    expect(tree.size).toBe(46);
    expect(image.length % 4096).toBe(0);
    expect(buildIso(novaTree(), { ...OPTIONS, recordedAt: new Date(OPTIONS.recordedAt) }).equals(image)).toBe(true);
  });

  test('isoinfo -d finds the volume id, publisher, Joliet and Rock Ridge', async () => {
    const { stdout } = await run('isoinfo', ['-d', '-i', imagePath]);
    expect(stdout).toContain('System id: LINUX\n');
    expect(stdout).toContain('Volume id: config-2\n');
    expect(stdout).toContain('Publisher id: nova-spawnd 0.1.0\n');
    expect(stdout).toContain('Logical block size is: 2048\n');
    expect(stdout).toContain(`Volume size is: ${image.length / 2048}\n`);
    expect(stdout).toContain('Joliet with UCS level 3 found');
    expect(stdout).toContain('Rock Ridge signatures version 1 found');
  });

  test('blkid sees an iso9660 filesystem labelled config-2', async () => {
    const { stdout } = await run('blkid', ['-p', '-o', 'export', imagePath]);
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['LABEL=config-2', 'TYPE=iso9660']));
  });

  test('isoinfo lists the same primary, Rock Ridge and Joliet trees and path table as genisoimage makes', async () => {
    const flags = ['-publisher', OPTIONS.publisher, ...NOVA_GENISOIMAGE_FLAGS];
    const reference = await genisoimage(tree, dir, flags, OPTIONS.recordedAt);
    for (const flags of [['-l'], ['-R', '-l'], ['-J', '-l'], ['-p']]) {
      const ours = await isoinfoListing(imagePath, flags);
      expect(ours).toContain('2012');
      expect(ours).toBe(await isoinfoListing(reference, flags));
    }
    expect(readIso(await readFile(reference)).tree).toEqual(tree);
  });

  test('isoinfo -R/-J -x and pycdlib return every file byte for byte', async () => {
    const joliet = jolietPaths(tree);
    const files = [...tree.keys()].map((path) => `/${path}`);
    expect(files.every((path) => joliet.get(path) === path)).toBe(true); // Nova's names need no Joliet changes
    const report = await checkWithPython(imagePath, { rr: files, joliet: files });
    const expected = hashes(tree, '/');
    expect(report.isoinfo.rr).toEqual(expected);
    expect(report.isoinfo.joliet).toEqual(expected);
    expect(report.pycdlib.rr).toEqual(expected);
    expect(report.pycdlib.joliet).toEqual(expected);
    expect(report.isoinfoFind.rr.sort()).toEqual(allPaths(tree));
    expect(report.isoinfoFind.joliet.sort()).toEqual(allPaths(tree));
    // The primary tree: genisoimage's names ("-" -> "_", ";1" versions).
    expect(report.pycdlib.iso['/openstack/2012_08_10/meta_data.json;1']).toBe(expected['/openstack/2012-08-10/meta_data.json']);
    expect(report.pycdlib.iso['/openstack/latest/user_data.;1']).toBe(expected['/openstack/latest/user_data']);
    expect(report.pycdlib.iso['/ec2/2009_04_04/meta_data.json;1']).toBe(expected['/ec2/2009-04-04/meta-data.json']);
  });

  test('xorriso lists r--r--r-- files and r-xr-xr-x directories and extracts every file', async () => {
    const { stdout, stderr } = await run('xorriso', ['-indev', imagePath, '-find', '/', '-exec', 'lsdl']);
    expect(stderr).not.toMatch(/WARNING|SORRY|FAILURE|MISHAP|FATAL/);
    const listed = stdout
      .split('\n')
      .filter((line) => /^[d-]r/.test(line))
      .map((line) => `${line.slice(0, 10)} ${line.slice(line.indexOf("'"))}`);
    const expectedListing = allPaths(tree).map((path) =>
      tree.has(path.slice(1)) ? `-r--r--r-- '${path}'` : `dr-xr-xr-x '${path}'`,
    );
    expect(listed.sort()).toEqual(['dr-xr-xr-x \'/\'', ...expectedListing].sort());

    const extracted = await xorrisoExtract(imagePath, join(dir, 'extracted'));
    expect(extracted.stderr).not.toMatch(/WARNING|SORRY|FAILURE|MISHAP|FATAL/);
    expect(hashes(extracted.files)).toEqual(hashes(tree));
  });

  test('our own reader gives the tree and volume id back', () => {
    expect(readIso(image)).toEqual({ volumeId: 'config-2', tree });
  });
});
