/** Runs a snippet under Debian's Python (the one with nova, netaddr and cloudinit) on JSON stdin/stdout. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Debian's interpreter: the `python3` on PATH may be another one, without Debian's modules. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Runs `script` (a file path, or code with `-c`) with `input` as JSON on stdin; returns its stdout. */
export async function runPython(args: readonly string[], input: unknown): Promise<string> {
  const child = execFileAsync(DEBIAN_PYTHON, [...args], { maxBuffer: 64 * 1024 * 1024 });
  child.child.stdin!.end(JSON.stringify(input));
  return (await child).stdout;
}
