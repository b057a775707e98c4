import { spawn } from 'node:child_process';

export class ToolFailedError extends Error {
  override readonly name = 'ToolFailedError';
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${[command, ...args].join(' ')} exited with ${exitCode ?? 'a signal'}: ${stderr.trim() || '(no stderr)'}`);
  }
}

/**
 * Runs a host tool and returns its stdout as bytes (decompressors emit binary); `input` goes to its stdin.
 * A non-zero exit throws, naming the command line and the tool's stderr.
 */
export function runTool(command: string, args: readonly string[], input?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => reject(new ToolFailedError(command, args, null, error.message)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(stdout));
      else reject(new ToolFailedError(command, args, code, Buffer.concat(stderr).toString('utf8')));
    });
    // A tool that exits before reading all of its input must not crash the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
