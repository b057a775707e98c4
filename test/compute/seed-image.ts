import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheFileName } from '../../src/virt/imagecache/index.js';

/** Puts a small qcow2 image in the image cache, as an earlier download would have left it. */
export function seedImage(instancesPath: string, imageId: string, file?: string): string {
  const base = join(instancesPath, '_base');
  mkdirSync(base, { recursive: true });
  const path = join(base, cacheFileName(imageId));
  if (file) execFileSync('cp', [file, path]);
  else execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path, '1M']);
  return path;
}
