/** Runs the real ISO readers (isoinfo, xorriso, pycdlib, blkid) on an image file and reports what they see. */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jolietIdentifiers } from '../../../../src/configdrive/iso9660/names.js';
import { toDirectoryTree, type DirectoryNode, type DriveTree } from '../../../../src/configdrive/tree.js';

const execFileAsync = promisify(execFile);
/** Debian's interpreter: the one with pycdlib (the `python3` on PATH is a pyenv build without it). */
const DEBIAN_PYTHON = '/usr/bin/python3';
const CHECKER = fileURLToPath(new URL('./check_iso.py', import.meta.url));

export async function run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(command, args, { maxBuffer: 256 << 20, env: { ...process.env, TZ: 'UTC' } });
}

/** A fresh directory under os.tmpdir(); the caller removes it. */
export const makeTempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'iso9660-test-'));

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

export interface PythonReport {
  pycdlib: Record<'rr' | 'joliet' | 'iso', Record<string, string>>;
  isoinfo: Record<'rr' | 'joliet', Record<string, string>>;
  isoinfoFind: Record<'rr' | 'joliet', string[]>;
}

/** One Python process: pycdlib walks of all three trees, and `isoinfo -R/-J -x` of the given paths. */
export async function checkWithPython(image: string, request: { rr: string[]; joliet: string[] }): Promise<PythonReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, [CHECKER, image], { env: { ...process.env, TZ: 'UTC' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`check_iso.py exited ${code}: ${Buffer.concat(err).toString()}`));
      else resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as PythonReport);
    });
    child.stdin.end(JSON.stringify(request));
  });
}

/** Every file under `dir`, relative POSIX path -> bytes. */
export async function readTreeFromDisk(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const full = join(entry.parentPath, entry.name);
      files.set(relative(dir, full), await readFile(full));
    }
  }
  return files;
}

/** `xorriso -osirrox on -indev IMAGE -extract / DEST`, then the extracted files; stderr for warnings. */
export async function xorrisoExtract(image: string, dest: string): Promise<{ files: Map<string, Buffer>; stderr: string }> {
  const { stderr } = await run('xorriso', ['-osirrox', 'on', '-indev', image, '-extract', '/', dest]);
  return { files: await readTreeFromDisk(dest), stderr };
}

/** Absolute paths ("/a/b") of every file and directory of the tree, sorted. */
export function allPaths(tree: DriveTree): string[] {
  const paths = new Set<string>();
  for (const path of tree.keys()) {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) paths.add(`/${parts.slice(0, i).join('/')}`);
  }
  return [...paths].sort();
}

/**
 * The Joliet path of every file and directory (absolute, keyed by the real absolute path), per our naming
 * rules; the tests check the readers find each file's bytes under it.
 */
export function jolietPaths(tree: DriveTree): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (directory: DirectoryNode, real: string, joliet: string): void => {
    const names = jolietIdentifiers(directory.children);
    directory.children.forEach((child, index) => {
      const childReal = `${real}/${child.name}`;
      const childJoliet = `${joliet}/${names[index]!}`;
      out.set(childReal, childJoliet);
      if (child.kind === 'directory') visit(child, childReal, childJoliet);
    });
  };
  visit(toDirectoryTree(tree), '', '');
  return out;
}

/** How isoinfo prints a Joliet name: ISO-8859-1, "_" for each UTF-16 unit beyond it. */
export const asIsoinfoShowsJoliet = (path: string): string => path.replace(/[^\u0000-\u00ff]/g, '_');

/** Nova's genisoimage flags, but for -o, -publisher and the source directory. */
export const NOVA_GENISOIMAGE_FLAGS = ['-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-quiet', '-J', '-r', '-V', 'config-2'];

/**
 * genisoimage's image of `tree` (written under `dir` with every mtime at `date`, as Nova hands it a
 * directory) with the given flags; returns the image's path.
 */
export async function genisoimage(tree: DriveTree, dir: string, flags: string[], date: Date): Promise<string> {
  const source = await mkdtemp(join(dir, 'source-'));
  for (const [path, data] of tree) {
    await mkdir(join(source, dirname(path)), { recursive: true });
    await writeFile(join(source, path), data);
  }
  for (const path of allPaths(tree).reverse()) await utimes(join(source, path), date, date);
  await utimes(source, date, date);
  const image = `${source}.iso`;
  await run('genisoimage', ['-o', image, ...flags, source]);
  return image;
}
