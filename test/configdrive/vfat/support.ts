import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriveTree } from '../../../src/configdrive/tree.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a real tool; a non-zero exit is returned, not thrown, so tests can assert on it. */
export function run(command: string, args: string[]): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C.UTF-8' } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

export async function makeTempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'vfat-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Every regular file under `root`, as a DriveTree (what mcopy -s extracted). */
export async function readTreeFromDirectory(root: string): Promise<Map<string, Uint8Array>> {
  const tree = new Map<string, Uint8Array>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    tree.set(full.slice(root.length + 1), await readFile(full));
  }
  return tree;
}

/** Path -> byte length and a cheap content check, so a mismatch report stays readable for multi-MiB files. */
export function expectSameTree(actual: ReadonlyMap<string, Uint8Array>, expected: DriveTree): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [path, bytes] of expected) {
    const got = actual.get(path)!;
    if (Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.length), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)) !== 0) {
      throw new Error(`content of ${path} differs: ${got.length} bytes read, ${bytes.length} written`);
    }
  }
}

export { novaTypicalTree, seededRandom } from '../../fixtures/config-drive-trees.js';
