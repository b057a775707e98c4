/**
 * Random trees (seeded: rerun a failure with ISO_SEED=<base seed shown in the title>) round-trip through
 * buildIso() and back out of isoinfo -R, isoinfo -J, pycdlib (Rock Ridge, Joliet and primary trees),
 * xorriso and readIso().
 */
import { randomInt } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildIso, readIso } from '../../../src/configdrive/iso9660/index.js';
import { JOLIET_NAME_MAX, PRIMARY_NAME_MAX } from '../../../src/configdrive/iso9660/names.js';
import {
  allPaths,
  asIsoinfoShowsJoliet,
  checkWithPython,
  jolietPaths,
  makeTempDir,
  sha256,
  xorrisoExtract,
} from './helpers/readers.js';
import { prng, randomTree } from './helpers/trees.js';

const BASE_SEED = process.env.ISO_SEED ? Number(process.env.ISO_SEED) : randomInt(2 ** 31);
/** Tree sizes (up to this many files, plus COLLIDING_NAMES): small ones and several with hundreds. */
const MAX_FILES = [20, 50, 100, 150, 200, 300, 300, 400];
const next = prng(BASE_SEED);
const CASES = MAX_FILES.map((maxFiles) => ({ seed: Math.floor(next() * 2 ** 31), maxFiles }));
const JOLIET_FORBIDDEN = /[\u0000-\u001f*/:;?\\]/;
const OPTIONS = { volumeId: 'config-2', publisher: 'nova-spawnd test', recordedAt: new Date('2031-12-31T23:59:59Z') };

describe(`random trees (ISO_SEED=${BASE_SEED})`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test.each(CASES)('seed $seed, up to $maxFiles files', async ({ seed, maxFiles }) => {
    const tree = randomTree(seed, maxFiles);
    const image = buildIso(tree, OPTIONS);
    const imagePath = join(dir, `${seed}.iso`);
    await writeFile(imagePath, image);

    // Hashes, not bytes: jest's deep equality takes seconds over a few MiB.
    const hashes = (files: ReadonlyMap<string, Uint8Array>): Record<string, string> =>
      Object.fromEntries([...files].map(([path, data]) => [`/${path}`, sha256(data)]));
    const byRealPath = hashes(tree);
    const readBack = readIso(image);
    expect(readBack.volumeId).toBe('config-2');
    expect(hashes(readBack.tree)).toEqual(byRealPath);
    const joliet = jolietPaths(tree);
    for (const [real, jolietPath] of joliet) {
      const [realName, jolietName] = [real, jolietPath].map((path) => path.slice(path.lastIndexOf('/') + 1));
      expect(jolietName!.length).toBeLessThanOrEqual(JOLIET_NAME_MAX);
      if (realName!.length <= JOLIET_NAME_MAX && !JOLIET_FORBIDDEN.test(realName!)) expect(jolietName).toBe(realName);
    }
    expect(new Set(joliet.values()).size).toBe(joliet.size);
    const byJolietPath = Object.fromEntries(Object.entries(byRealPath).map(([path, hash]) => [joliet.get(path)!, hash]));

    // isoinfo shows every UTF-16 unit beyond ISO-8859-1 as "_" and extracts the first match: "/λ" and "/어"
    // are both "/_" to it. It can only be asked for paths it tells apart (pycdlib reads every Joliet path).
    const shownAs = new Map<string, number>();
    for (const path of Object.keys(byJolietPath)) shownAs.set(asIsoinfoShowsJoliet(path), (shownAs.get(asIsoinfoShowsJoliet(path)) ?? 0) + 1);
    const forIsoinfo = Object.fromEntries(Object.entries(byJolietPath).filter(([path]) => shownAs.get(asIsoinfoShowsJoliet(path)) === 1));

    const report = await checkWithPython(imagePath, { rr: Object.keys(byRealPath), joliet: Object.keys(forIsoinfo) });
    expect(report.isoinfo.rr).toEqual(byRealPath);
    expect(report.isoinfo.joliet).toEqual(forIsoinfo);
    expect(report.isoinfoFind.rr.sort()).toEqual(allPaths(tree));
    expect(report.isoinfoFind.joliet.sort()).toEqual([...joliet.values()].map(asIsoinfoShowsJoliet).sort());
    expect(report.pycdlib.rr).toEqual(byRealPath);
    expect(report.pycdlib.joliet).toEqual(byJolietPath);
    // Primary names are mangled beyond recovery, but every file is there under a valid identifier.
    expect(Object.values(report.pycdlib.iso).sort()).toEqual(Object.values(byRealPath).sort());
    for (const path of Object.keys(report.pycdlib.iso)) {
      const components = path.slice(1).split('/');
      for (const directory of components.slice(0, -1)) expect(directory).toMatch(new RegExp(`^[A-Za-z0-9_.]{1,${PRIMARY_NAME_MAX}}$`));
      expect(components.at(-1)).toMatch(new RegExp(`^(?=[^;]*\\.)[A-Za-z0-9_.]{1,${PRIMARY_NAME_MAX}};1$`));
    }

    const extracted = await xorrisoExtract(imagePath, join(dir, `${seed}.extracted`));
    expect(extracted.stderr).not.toMatch(/WARNING|SORRY|FAILURE|MISHAP|FATAL/);
    expect(hashes(extracted.files)).toEqual(byRealPath);
  });
});
