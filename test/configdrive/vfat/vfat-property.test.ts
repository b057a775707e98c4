import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toBuffer, writeDiskImage } from '../../../src/disk-image.js';
import { buildVfat, readVfat } from '../../../src/configdrive/vfat/index.js';
import { expectSameTree, makeTempDir, readTreeFromDirectory, run, seededRandom } from './support.js';

/**
 * Random trees (deep directories, long / unicode / awkward names, empty and multi-MiB files, hundreds of
 * files in one directory) through buildVfat, then fsck.fat, mcopy and readVfat. Set VFAT_SEED to replay.
 */
const seed = Number(process.env['VFAT_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
console.log(`vfat property test seed: ${seed} (replay with VFAT_SEED=${seed})`);
const random = seededRandom(seed);

const pick = <T>(items: ArrayLike<T>): T => items[Math.floor(random() * items.length)]!;
const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

// What LFN holds but 8.3 does not (case, spaces, + , ; = [ ], several dots), and BMP characters beyond ASCII.
const ALPHABETS = ['abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '0123456789', "-_~!#$%&'()@^`{}", ' +,;=[].', 'éüßøñÅçΩЖ€☃中文字'];

function randomName(maxLength: number, asciiOnly: boolean): string {
  const length = between(1, maxLength);
  let name = '';
  for (let i = 0; i < length; i++) name += pick(pick(asciiOnly ? ALPHABETS.slice(0, 5) : ALPHABETS));
  // Names ending in a dot or a space are refused by design (readers strip them).
  return /^[. ]*$/.test(name) ? 'x' : name.replace(/[. ]+$/, '') || 'x';
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  const words = new Uint32Array(bytes.buffer, 0, length >> 2);
  for (let i = 0; i < words.length; i++) words[i] = random() * 2 ** 32;
  for (let i = words.length * 4; i < length; i++) bytes[i] = random() * 256;
  return bytes;
}

class TreeBuilder {
  readonly tree = new Map<string, Uint8Array>();
  private readonly foldedByDirectory = new Map<string, Set<string>>();

  /** A fresh name in `directory`, unique ignoring case, as FAT requires. */
  name(directory: string, make: () => string): string {
    const folded = this.foldedByDirectory.get(directory) ?? new Set<string>();
    this.foldedByDirectory.set(directory, folded);
    for (;;) {
      const name = make();
      if (!folded.has(name.toUpperCase())) {
        folded.add(name.toUpperCase());
        return directory ? `${directory}/${name}` : name;
      }
    }
  }

  file(directory: string, make: () => string, bytes: Uint8Array): void {
    this.tree.set(this.name(directory, make), bytes);
  }
}

function smallFile(): Uint8Array {
  return randomBytes(pick([0, 1, between(1, 100), between(2040, 2060), between(1, 9000)]));
}

function randomTree(): Map<string, Uint8Array> {
  const builder = new TreeBuilder();
  const short = () => randomName(12, false);
  // Long names only near the root, ASCII: the extracted copy must fit Linux's 255-byte NAME_MAX and PATH_MAX.
  const long = () => randomName(255, true);
  const fill = (directory: string, depth: number): void => {
    const children = between(0, 6);
    for (let i = 0; i < children; i++) {
      if (depth < 4 && random() < 0.3) fill(builder.name(directory, short), depth + 1);
      else builder.file(directory, depth < 2 && random() < 0.2 ? long : short, smallFile());
    }
  };
  fill('', 0);

  // Deep: a chain of directories with a file at every level.
  let deep = builder.name('', short);
  for (let depth = 0; depth < between(10, 25); depth++) {
    builder.file(deep, short, smallFile());
    deep = builder.name(deep, () => randomName(8, false));
  }
  builder.file(deep, short, smallFile());

  // Wide: hundreds of files whose short names collide, in the root (past its default 512 entries) or below.
  const wide = random() < 0.5 ? '' : builder.name('', short);
  const stem = randomName(10, true).replace(/\./g, '') || 'name';
  for (let i = 0; i < between(150, 400); i++) builder.file(wide, () => `${stem}_${between(0, 99999)}.json`, randomBytes(between(0, 40)));

  // Big: an empty file and one of several MiB that spans many clusters.
  builder.file('', short, new Uint8Array(0));
  builder.file('', short, randomBytes(between(2, 6) * 1024 * 1024 + between(0, 4096)));
  return builder.tree;
}

function randomLabel(): string {
  return pick(['config-2', 'CONFIG-2']) + (random() < 0.3 ? pick(['', 'X', '_1']) : '');
}

let temp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  temp = await makeTempDir();
});
afterAll(() => temp.remove());

const CASES = 6;
test.each(Array.from({ length: CASES }, (_, index) => index))(`random tree %i (seed ${seed}): fsck.fat clean, mcopy and readVfat give the tree back`, async (index) => {
  const tree = randomTree();
  const label = randomLabel();
  const recordedAt = new Date(Date.UTC(between(1980, 2107), between(0, 11), between(1, 28), between(0, 23), between(0, 59), between(0, 59), between(0, 999)));
  const minimumSize = pick([undefined, 1, 10 * 1024 * 1024 + 1]);
  const image = buildVfat(tree, { label, recordedAt, ...(minimumSize === undefined ? {} : { minimumSize }) });

  const path = join(temp.path, `case-${index}.img`);
  await writeDiskImage(path, image, { exclusive: true });
  const fsck = await run('fsck.fat', ['-n', path]);
  expect({ code: fsck.code, lines: fsck.stdout.trim().split('\n').length, stderr: fsck.stderr }).toEqual({ code: 0, lines: 2, stderr: '' });

  const destination = join(temp.path, `case-${index}`);
  const mcopy = await run('mcopy', ['-s', '-n', '-i', path, '::/', destination]);
  expect(mcopy).toMatchObject({ code: 0, stderr: '' });
  expectSameTree(await readTreeFromDirectory(destination), tree);

  const read = readVfat(await readFile(path));
  expect(read.label).toBe(label);
  expectSameTree(read.tree, tree);
  expect(readVfat(toBuffer(image)).tree.size).toBe(tree.size);
  expect((await run('blkid', ['-p', '-s', 'LABEL', '-o', 'value', path])).stdout.trim()).toBe(label);
});
