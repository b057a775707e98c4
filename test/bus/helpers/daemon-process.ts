/** `nova-spawnd run` as systemd would start it: the built CLI in a process of its own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { eventually } from './rabbit.js';

const CLI = new URL('../../../dist/src/cli.js', import.meta.url).pathname;

export class DaemonProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  static start(configFile: string): DaemonProcess {
    return new DaemonProcess(spawn(process.execPath, [CLI, 'run', '--config-file', configFile], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits (bounded) until the daemon has logged a line matching `pattern`. */
  waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<true> {
    return eventually(`the daemon to log ${pattern}`, () => {
      if (pattern.test(this.output)) return true;
      if (!this.running) throw new Error(`the daemon exited:\n${this.output}`);
      return undefined;
    }, timeoutMs);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGKILLs the process if it still runs and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
