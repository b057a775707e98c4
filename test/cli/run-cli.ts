import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/version.js';

/** From the package root: the benchmarks run these helpers from dist/. */
export const cli = join(PACKAGE_ROOT, 'dist/src/cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built nova-spawnd command as an operator would (jest's global setup builds dist/ first). */
export function runCli(args: string[], options: { input?: string | Buffer; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, [cli, ...args], {
    input: options.input,
    timeout: options.timeoutMs ?? 20000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { status: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}
