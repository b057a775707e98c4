/** The real tools that read back what the image cache wrote: qemu-img, blkid; and images to serve. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../../src/log.js';

const run = promisify(execFile);

export async function tool(command: string, ...args: string[]): Promise<string> {
  return (await run(command, args, { maxBuffer: 1 << 20 })).stdout;
}

/** `qemu-img info --output=json`, as printed. */
export async function qemuImgInfo(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await tool('qemu-img', 'info', '-U', '--output=json', path)) as Record<string, unknown>;
}

/**
 * `blkid -p -o export` of what the guest sees on the disk: a qcow2 overlay is first flattened to raw, since
 * blkid reads files, not qcow2.
 */
export async function blkidOfGuestView(disk: string): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'imagecache-blkid-'));
  try {
    const raw = join(dir, 'flat.raw');
    await tool('qemu-img', 'convert', '-O', 'raw', disk, raw);
    const lines = (await tool('blkid', '-p', '-o', 'export', raw)).trim().split('\n');
    return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `source` (raw) converted by qemu-img to `format`, with extra -o options. */
export async function convertedImage(dir: string, source: Buffer, format: string, options: string[] = []): Promise<Buffer> {
  const raw = join(dir, `source-${format}.raw`);
  const out = join(dir, `image.${format}`);
  await writeFile(raw, source);
  await tool('qemu-img', 'convert', '-O', format, ...options, raw, out);
  const bytes = await readFile(out);
  await rm(raw);
  await rm(out);
  return bytes;
}

export function digest(algorithm: string, bytes: Buffer): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

/** A logger that keeps lines for assertions instead of writing them to the test output. */
export function memoryLogger(lines: string[] = []): Logger {
  const log = (level: string) => (message: string, context?: Record<string, unknown>) => void lines.push(`${level} ${message} ${JSON.stringify(context ?? {})}`);
  const logger: Logger = { debug: log('DEBUG'), info: log('INFO'), warning: log('WARNING'), error: log('ERROR'), child: () => logger };
  return logger;
}
