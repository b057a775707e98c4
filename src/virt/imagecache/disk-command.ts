/** Runs the disk tools the way Nova's processutils does: C locale (parseable messages), errors typed. */
import { execFile } from 'node:child_process';
import { DiskCommandFailed } from './errors/disk-command-failed.js';

/**
 * nova.privsep.qemu.QEMU_IMG_LIMITS: qemu-img parses image headers that a user uploaded, and a crafted
 * header can make it spin or allocate without bound. prlimit (util-linux) applies the limits to the child.
 */
export const UNTRUSTED_IMAGE_LIMITS = ['prlimit', '--cpu=30', `--as=${2 ** 30}`] as const;

export function runDiskCommand(command: readonly string[]): Promise<string> {
  const [file, ...args] = command;
  return new Promise((resolve, reject) => {
    execFile(
      file!,
      args,
      { env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const status = error.signal ?? String(error.code ?? 'unknown');
        reject(new DiskCommandFailed(command, typeof error.code === 'number' ? `exit ${status}` : status, stderr));
      },
    );
  });
}
