import { spawnSync } from 'node:child_process';

export const cli = new URL('../../dist/src/cli.js', import.meta.url).pathname;

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
