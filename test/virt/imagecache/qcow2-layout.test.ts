/**
 * The qcow2 overlays we write against the ones Debian's qemu-img (7.2) writes for the same inputs, byte for
 * byte; then qemu's own readers (check, info, compare, qemu-io) on ours.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskCommandFailed } from '../../../src/virt/imagecache/errors/disk-command-failed.js';
import { qcow2OverlayLayout, type Qcow2OverlaySpec } from '../../../src/virt/imagecache/qcow2-layout.js';
import { writeDiskImage } from '../../../src/disk-image.js';
import { placeQcow2Overlay } from '../../../src/virt/imagecache/qcow2-overlay.js';
import { qemuImgInfo, tool } from './disk-tools.js';

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

let scratch: string;
/** A 1 MiB base file of each format, holding `content`. */
const bases: Record<'raw' | 'qcow2', string> = { raw: '', qcow2: '' };
/** The bases' guest-visible bytes: random, with a run of one byte that qemu-io can check for. */
const content = randomBytes(MiB);
const PATTERN = 0xc3;
const PATTERN_AT = 512 * 1024;
const PATTERN_LENGTH = 64 * 1024;
content.fill(PATTERN, PATTERN_AT, PATTERN_AT + PATTERN_LENGTH);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'imagecache-qcow2-'));
  bases.raw = join(scratch, 'base.raw');
  bases.qcow2 = join(scratch, 'base.qcow2');
  await writeFile(bases.raw, content);
  await tool('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', bases.raw, bases.qcow2);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let files = 0;

/** What `qemu-img create -f qcow2 -o backing_file=B,backing_fmt=F[,cluster_size=C] T SIZE` writes, or its error. */
async function qemuImgCreate(spec: Qcow2OverlaySpec): Promise<Buffer | string> {
  const target = join(scratch, `reference-${files++}.qcow2`);
  const options = [`backing_file=${spec.backingFile}`, `backing_fmt=${spec.backingFormat}`];
  if (spec.clusterSize !== null) options.push(`cluster_size=${spec.clusterSize}`);
  try {
    await tool('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', options.join(','), target, String(spec.virtualSize));
  } catch (error) {
    return (error as { stderr: string }).stderr;
  }
  const bytes = await readFile(target);
  await rm(target);
  return bytes;
}

/** Our overlay for `spec` in a new file, or null where the layout leaves it to qemu-img. */
async function ours(spec: Qcow2OverlaySpec): Promise<string | null> {
  const layout = qcow2OverlayLayout(spec);
  if (layout === null) return null;
  const target = join(scratch, `ours-${files++}.qcow2`);
  await writeDiskImage(target, layout, { exclusive: true });
  return target;
}

/** Where two files first differ (-1: nowhere), and their lengths: readable when a comparison fails. */
function comparison(actual: Buffer, expected: Buffer): { length: number; firstDifference: number } {
  if (actual.equals(expected)) return { length: actual.length, firstDifference: -1 };
  let offset = 0;
  while (offset < Math.min(actual.length, expected.length) && actual[offset] === expected[offset]) offset++;
  return { length: actual.length, firstDifference: offset };
}

/** Whether qemu's file counts its clusters with more than the one refcount block of the simple layout. */
function usesFurtherRefcountBlocks(file: Buffer): boolean {
  const clusterSize = 2 ** file.readUInt32BE(20);
  return file.readBigUInt64BE(clusterSize + 8) !== 0n;
}

const SIZES: [string, number][] = [
  ['1 MiB', MiB],
  ['1 GiB', GiB],
  ['20 GiB', 20 * GiB],
  ['2 TiB', 2 * TiB],
  ['1000001 bytes (not a sector multiple)', 1_000_001],
  ['5 GiB + 192 KiB + 512 (not a cluster multiple)', 5 * GiB + 192 * KiB + 512],
  ['0 bytes', 0],
  // With 512-byte clusters, the largest L1 table the first refcount block still counts (253 clusters)...
  ['506 MiB', 253 * 64 * 32 * KiB],
  // ...and one L1 cluster more.
  ['508 MiB', 254 * 64 * 32 * KiB],
];

/** [cluster size, size] that qcow2OverlayLayout leaves to qemu-img: small clusters under large disks. */
const LEFT_TO_QEMU_IMG = new Set(['512 1 GiB', '512 20 GiB', '512 2 TiB', '512 5 GiB + 192 KiB + 512 (not a cluster multiple)', '512 508 MiB', '4096 2 TiB']);

describe.each(['raw', 'qcow2'] as const)('over a %s base', (backingFormat) => {
  test.each([null, 512, 4096, 65536, 131072, 2 * MiB])('cluster size %p: every size, byte for byte', async (clusterSize) => {
    const leftToQemuImg: string[] = [];
    for (const [name, virtualSize] of SIZES) {
      const spec = { backingFile: bases[backingFormat], backingFormat, virtualSize, clusterSize };
      const reference = await qemuImgCreate(spec);
      const path = await ours(spec);
      if (path === null) {
        leftToQemuImg.push(`${clusterSize} ${name}`);
        // Rightly so: qemu places further refcount blocks there, or refuses the size.
        if (typeof reference === 'string') expect(reference).toContain('too large');
        else expect(usesFurtherRefcountBlocks(reference)).toBe(true);
        continue;
      }
      if (typeof reference === 'string') throw new Error(`qemu-img refused ${name} with cluster size ${clusterSize}: ${reference}`);
      const bytes = await readFile(path);
      expect({ size: name, ...comparison(bytes, reference) }).toEqual({ size: name, length: reference.length, firstDifference: -1 });
      await rm(path);
    }
    expect(leftToQemuImg).toEqual(SIZES.map(([name]) => `${clusterSize} ${name}`).filter((key) => LEFT_TO_QEMU_IMG.has(key)));
  });
});

describe('backing file names', () => {
  /** A file at a path exactly `length` bytes long (qemu-img opens the backing file while creating). */
  async function baseNamed(length: number): Promise<string> {
    let dir = join(scratch, 'long');
    while (length - dir.length > 256) dir = join(dir, 'd'.repeat(200));
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'b'.repeat(length - dir.length - 1));
    await writeFile(path, content);
    return path;
  }

  test.each([
    ['the longest qcow2 takes (1023 bytes), 64 KiB clusters', 1023, null],
    ['filling a 512-byte header cluster exactly', 376, 512],
  ])('%s: byte for byte', async (_, length, clusterSize) => {
    const spec = { backingFile: await baseNamed(length), backingFormat: 'raw', virtualSize: MiB, clusterSize };
    const reference = await qemuImgCreate(spec);
    expect(Buffer.isBuffer(reference)).toBe(true);
    expect((await readFile((await ours(spec))!)).equals(reference as Buffer)).toBe(true);
  });

  test.each([
    ['1024 bytes', 1024, null],
    ['past a 512-byte header cluster', 377, 512],
  ])('%s: left to qemu-img, which refuses it', async (_, length, clusterSize) => {
    const spec = { backingFile: await baseNamed(length), backingFormat: 'raw', virtualSize: MiB, clusterSize };
    expect(qcow2OverlayLayout(spec)).toBeNull();
    const target = join(scratch, `refused-${files++}.qcow2`);
    const error = await placeQcow2Overlay(target, spec.backingFile, { format: 'raw', virtualSize: MiB, clusterSize, backingFile: null, dataFile: null }, null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskCommandFailed);
    expect((error as DiskCommandFailed).command.slice(0, 2)).toEqual(['qemu-img', 'create']);
  });
});

describe('placeQcow2Overlay', () => {
  test('a layout it leaves to qemu-img is qemu-img’s: 512-byte clusters under 1 GiB', async () => {
    const spec = { backingFile: bases.raw, backingFormat: 'raw', virtualSize: GiB, clusterSize: 512 };
    const target = join(scratch, `fallback-${files++}.qcow2`);
    await placeQcow2Overlay(target, bases.raw, { format: 'raw', virtualSize: MiB, clusterSize: 512, backingFile: null, dataFile: null }, GiB);
    expect((await readFile(target)).equals((await qemuImgCreate(spec)) as Buffer)).toBe(true);
  });

  test('without a size, the overlay is as large as the base, in the base’s cluster size', async () => {
    const target = join(scratch, `sized-${files++}.qcow2`);
    await placeQcow2Overlay(target, bases.qcow2, { format: 'qcow2', virtualSize: 1_000_001, clusterSize: 131072, backingFile: null, dataFile: null }, null);
    const reference = await qemuImgCreate({ backingFile: bases.qcow2, backingFormat: 'qcow2', virtualSize: 1_000_001, clusterSize: 131072 });
    expect((await readFile(target)).equals(reference as Buffer)).toBe(true);
    expect(await qemuImgInfo(target)).toMatchObject({ 'virtual-size': 1_000_448, 'cluster-size': 131072 });
  });
});

describe.each([
  ['raw', null],
  ['qcow2', 131072],
] as const)('qemu reads our overlay over a %s base (cluster size %p)', (backingFormat, clusterSize) => {
  let path: string;
  beforeAll(async () => {
    path = (await ours({ backingFile: bases[backingFormat], backingFormat, virtualSize: 20 * GiB, clusterSize }))!;
  });

  test('qemu-img check finds it clean; qemu-img info says what it says of qemu-img’s own', async () => {
    expect(JSON.parse(await tool('qemu-img', 'check', '--output=json', path))).toMatchObject({ 'check-errors': 0 });
    const reference = join(scratch, `info-${files++}.qcow2`);
    await writeFile(reference, (await qemuImgCreate({ backingFile: bases[backingFormat], backingFormat, virtualSize: 20 * GiB, clusterSize })) as Buffer);
    // actual-size is the host's allocation: our file leaves its zeros as holes.
    const comparable = async (file: string) => {
      const { filename, 'actual-size': actualSize, ...info } = await qemuImgInfo(file);
      return { filename: typeof filename, actualSize: typeof actualSize, ...info };
    };
    expect(await comparable(path)).toEqual(await comparable(reference));
  });

  test('the guest reads the base’s bytes through it, zeros past the base, and its own writes', async () => {
    // qemu-img compare: identical, the overlay's tail past the base reading as zeros.
    await tool('qemu-img', 'compare', '-f', backingFormat, '-F', 'qcow2', bases[backingFormat], path);
    // qemu-io read -P checks every byte of the range against the pattern.
    await tool(
      'qemu-io', '-f', 'qcow2',
      '-c', `read -P ${PATTERN} ${PATTERN_AT} ${PATTERN_LENGTH}`,
      '-c', `read -P 0 ${2 * MiB} 1m`,
      '-c', `write -P 0x5a ${19 * GiB} 64k`,
      '-c', `read -P 0x5a ${19 * GiB} 64k`,
      '-c', `read -P ${PATTERN} ${PATTERN_AT} ${PATTERN_LENGTH}`,
      path,
    );
    expect(JSON.parse(await tool('qemu-img', 'check', '--output=json', path))).toMatchObject({ 'check-errors': 0 });
    expect((await readFile(bases.raw)).equals(content)).toBe(true);
  });
});
