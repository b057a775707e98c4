/**
 * A libvirtd of the test's own, to kill and restart under a live connection without touching the
 * machine's: run as user nobody it is a per-user ("session") daemon whose sockets, state and logs all live
 * in a temp directory. Through test+unix it serves libvirt's test driver, so no QEMU is involved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_WITHIN_MS = 30_000;

export class PrivateLibvirtd {
  private daemon: ChildProcess | null = null;

  private constructor(private readonly dir: string) {}

  static async create(): Promise<PrivateLibvirtd> {
    const dir = await mkdtemp(join(tmpdir(), 'private-libvirtd-'));
    for (const sub of ['', 'home', 'run']) {
      await mkdir(join(dir, sub), { recursive: true });
      await chmod(join(dir, sub), 0o777);
    }
    return new PrivateLibvirtd(dir);
  }

  get socket(): string {
    return join(this.dir, 'run', 'libvirt', 'libvirt-sock');
  }

  get uri(): string {
    return `test+unix:///default?socket=${this.socket}`;
  }

  /** Starts the daemon (setpriv execs it, so the child is libvirtd itself) and waits for its socket. */
  async start(): Promise<void> {
    await rm(this.socket, { force: true });
    const home = join(this.dir, 'home');
    this.daemon = spawn(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'libvirtd', '--timeout', '600'],
      {
        cwd: this.dir,
        env: { PATH: process.env['PATH'], HOME: home, XDG_RUNTIME_DIR: join(this.dir, 'run'), XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') },
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + READY_WITHIN_MS;
    while (!(await stat(this.socket).then((s) => s.isSocket(), () => false))) {
      if (this.daemon.exitCode !== null || Date.now() > deadline) throw new Error(`private libvirtd in ${this.dir} did not come up`);
      await sleep(50);
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const daemon = this.daemon;
    this.daemon = null;
    if (daemon === null || daemon.exitCode !== null || daemon.signalCode !== null) return;
    const exited = once(daemon, 'exit');
    daemon.kill(signal);
    await exited;
  }

  async remove(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
