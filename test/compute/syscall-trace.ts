/**
 * The system calls this very process makes while some work runs, as `strace -f` attached to it sees them:
 * what durability rests on (which file was synced before its name appeared, which directory after) can
 * only be seen there. A syscall A that a later one B waits for (through libuv and JavaScript) is printed
 * as finished before B is printed as begun: the tracee's thread stays stopped until strace has printed it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface Syscall {
  name: string;
  /** The argument text as strace prints it. */
  args: string;
  /** The first quoted argument (a path, for the calls traced here), or null. */
  path: string | null;
  /** The second quoted argument (link's and rename's new name), or null. */
  path2: string | null;
  result: number;
  /** Positions in strace's output: a call that began after another ended has begun > the other's ended. */
  begun: number;
  ended: number;
}

const WHOLE = /^(\d+) +(\w+)\((.*)\) += (-?\d+)/;
const UNFINISHED = /^(\d+) +(\w+)\((.*) <unfinished \.\.\.>$/;
const RESUMED = /^(\d+) +<\.\.\. (\w+) resumed>(.*)\) += (-?\d+)/;

function quoted(args: string): string[] {
  return [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!);
}

/** strace's output, one record per call that returned (calls still running at detach are left out). */
export function parseTrace(text: string): Syscall[] {
  const open = new Map<string, { name: string; args: string; begun: number }>();
  const calls: Syscall[] = [];
  const finish = (name: string, args: string, result: string, begun: number, ended: number): void => {
    const [path = null, path2 = null] = quoted(args);
    calls.push({ name, args, path, path2, result: Number(result), begun, ended });
  };
  text.split('\n').forEach((line, index) => {
    const whole = WHOLE.exec(line);
    if (whole) return finish(whole[2]!, whole[3]!, whole[4]!, index, index);
    const unfinished = UNFINISHED.exec(line);
    if (unfinished) return void open.set(`${unfinished[1]} ${unfinished[2]}`, { name: unfinished[2]!, args: unfinished[3]!, begun: index });
    const resumed = RESUMED.exec(line);
    if (!resumed) return;
    const started = open.get(`${resumed[1]} ${resumed[2]}`);
    if (!started) return;
    open.delete(`${resumed[1]} ${resumed[2]}`);
    finish(started.name, started.args + resumed[3]!, resumed[4]!, started.begun, index);
  });
  return calls;
}

/** Runs `work` with strace following every thread of this process, tracing `syscalls` (and access, to see it attach). */
export async function traceSyscalls<T>(syscalls: readonly string[], work: () => Promise<T>): Promise<{ result: T; calls: Syscall[] }> {
  const scratch = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-strace-'));
  const output = join(scratch, 'trace');
  const probe = join(scratch, 'attached');
  const strace = spawn('strace', ['-f', '-qq', '-o', output, '-e', `trace=${[...syscalls, 'access'].join(',')}`, '-p', String(process.pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  strace.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const spawnFailure: { error: Error | null } = { error: null };
  const exited = new Promise<void>((resolve) => {
    strace.on('error', (error) => {
      spawnFailure.error = error;
      resolve();
    });
    strace.on('exit', () => resolve());
  });
  const running = (): boolean => spawnFailure.error === null && strace.exitCode === null && strace.signalCode === null;
  const stop = async (): Promise<void> => {
    if (running()) strace.kill('SIGINT');
    await exited;
  };
  const attached = (): boolean => {
    existsSync(probe); // the access(2) strace is to show
    return existsSync(output) && readFileSync(output, 'utf8').includes(probe);
  };
  try {
    // strace stops every thread to attach, so this is quick.
    for (let attempt = 0; !attached(); attempt++) {
      if (!running() || attempt === 1000) {
        throw new Error(`strace could not trace this process: ${spawnFailure.error?.message ?? (stderr.trim() || 'it did not attach within 10 s')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const result = await work();
    await stop();
    return { result, calls: parseTrace(readFileSync(output, 'utf8')) };
  } finally {
    await stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every fsync and fdatasync, with the path its descriptor was opened on (followed through openat and close). */
export function syncedPaths(calls: readonly Syscall[]): { name: string; path: string; begun: number; ended: number }[] {
  type Event = { at: number; apply: (open: Map<number, string>) => void };
  const events: Event[] = [];
  const synced: { name: string; path: string; begun: number; ended: number }[] = [];
  for (const call of calls) {
    if (call.name === 'openat' && call.result >= 0 && call.path !== null) {
      events.push({ at: call.ended, apply: (open) => void open.set(call.result, call.path!) });
    } else if (call.name === 'close') {
      events.push({ at: call.begun, apply: (open) => void open.delete(Number(call.args)) });
    } else if (call.name === 'fsync' || call.name === 'fdatasync') {
      events.push({
        at: call.begun,
        apply: (open) => {
          const path = open.get(Number(call.args));
          if (path !== undefined) synced.push({ name: call.name, path, begun: call.begun, ended: call.ended });
        },
      });
    }
  }
  const open = new Map<number, string>();
  for (const event of events.sort((a, b) => a.at - b.at)) event.apply(open);
  return synced;
}
