/** Drive trees for the ISO tests: a Nova-like one and seeded random ones. */
import type { DriveTree } from '../../../../src/configdrive/tree.js';
import { seededRandom } from '../../../fixtures/config-drive-trees.js';

export { novaTypicalTree as novaTree, seededRandom as prng } from '../../../fixtures/config-drive-trees.js';

const ALPHABETS = [
  'abcdefghijklmnopqrstuvwxyz',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  '-_.~ +=,@#',
  '*:;?\\', // forbidden in Joliet
  'äöüßéèçñÜ', // ISO-8859-1
  'жизньλόγος日本語한국어', // beyond ISO-8859-1
  '\u{1F600}\u{1F680}\u{10348}', // beyond the BMP: surrogate pairs in Joliet
];

/** Directories below the root: 7 puts the deepest at ISO 9660's level 8. */
const MAX_DEPTH = 7;

/** Names that collide once mapped: in the primary tree (case, "-", " "), in Joliet (forbidden characters, cut at 64). */
const COLLIDING_NAMES = [
  'a-b',
  'a_b',
  'A_B',
  'a b',
  'a:b',
  'a?b',
  'a.b',
  'A.B',
  '.hidden',
  'x..y',
  'meta_data.json',
  'meta-data.json',
  `${'long'.repeat(17)}-1.json`,
  `${'long'.repeat(17)}-2.json`,
  `${'long'.repeat(17)}-3`,
  `${'long'.repeat(17)}-4`,
];

/**
 * A random tree: up to `maxFiles` files in directories up to 7 deep (level 8, the ISO limit), names from
 * 1 to ~100 characters (at most 255 UTF-8 bytes) over ASCII, Joliet-forbidden characters, Latin-1, other
 * scripts and astral characters, COLLIDING_NAMES, empty files and multi-MiB ones.
 */
export function randomTree(seed: number, maxFiles: number): DriveTree {
  const random = seededRandom(seed);
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;

  const randomName = (): string => {
    const kind = random();
    if (kind < 0.05) return pick(COLLIDING_NAMES);
    const length = kind < 0.25 ? int(60, 100) : int(1, 20);
    const alphabets = [ALPHABETS[0]!, ...ALPHABETS.filter(() => random() < 0.3)];
    let name = '';
    while ([...name].length < length) name += pick([...pick(alphabets)]);
    if (random() < 0.4) name += pick(['.json', '.txt', '.tar.gz', '.d', '']);
    // Valid names: not "." or "..", and at most 255 UTF-8 bytes (what Linux accepts).
    while (Buffer.byteLength(name, 'utf8') > 255) name = [...name].slice(0, -1).join('');
    return name === '.' || name === '..' ? `${name}x` : name;
  };

  const randomBytes = (size: number): Uint8Array => {
    const data = new Uint8Array(size);
    const words = new Uint32Array(data.buffer, 0, size >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = (random() * 4294967296) >>> 0;
    for (let i = words.length * 4; i < size; i++) data[i] = int(0, 255);
    return data;
  };

  const depthOf = (directory: string): number => (directory ? directory.split('/').length : 0);
  const directories: string[] = [''];
  const tree = new Map<string, Uint8Array>();
  const taken = new Set<string>(['']);
  const files = int(Math.ceil(maxFiles / 2), maxFiles);
  let bigFiles = 0;
  for (let attempt = 0; tree.size < files && attempt < files * 20; attempt++) {
    let parent = pick(directories);
    if (depthOf(parent) < MAX_DEPTH && random() < 0.25) {
      const dir = parent ? `${parent}/${randomName()}` : randomName();
      if (taken.has(dir)) continue;
      taken.add(dir);
      directories.push(dir);
      parent = dir;
    }
    const path = parent ? `${parent}/${randomName()}` : randomName();
    if (taken.has(path)) continue;
    const sizeKind = random();
    // The first file is always multi-MiB, so every tree has one.
    const big = tree.size === 0 || (sizeKind > 0.97 && bigFiles < 2);
    const size = big ? int(1 << 20, 3 << 20) : sizeKind < 0.15 ? 0 : int(1, 6000);
    if (big) bigFiles++;
    taken.add(path);
    tree.set(path, randomBytes(size));
  }
  // All colliding names side by side in one directory, some of them as directories.
  const crowded = pick(directories);
  for (const name of COLLIDING_NAMES) {
    const path = crowded ? `${crowded}/${name}` : name;
    if (taken.has(path)) continue;
    taken.add(path);
    const asDirectory = depthOf(crowded) < MAX_DEPTH && random() < 0.3;
    tree.set(asDirectory ? `${path}/f` : path, randomBytes(int(0, 100)));
  }
  return tree;
}
