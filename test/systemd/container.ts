/**
 * A real systemd, PID 1 of a systemd-nspawn container booted from the Debian root that scripts/systemd-container
 * builds (cached): the daemon is installed into it as on a node and started by its unit. The container shares
 * the host's network (the broker at 127.0.0.1 is reachable) and nothing else of the host's services; its root
 * is a throw-away overlay (--volatile=overlay), so every boot starts clean.
 *
 * The daemon comes from this checkout (dist/ and node_modules, read-only) or, with
 * NOVA_SPAWND_TEST_INSTALLED=1, from the package installed on this machine (/usr/bin/nova-spawnd and the
 * unit, sysusers.d and tmpfiles.d files where the package puts them; NOVA_SPAWND_TEST_INSTALLED=DIR: a .deb
 * unpacked in DIR with dpkg-deb -x). Node is the host's, bind-mounted.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../bus/helpers/rabbit.js';
import { closedPort } from '../helpers/closed-port.js';

const execFileAsync = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
/** Inside the container: a clean environment, not the test runner's. */
const CONTAINER_ENV = ['env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'SYSTEMD_PAGER=cat'];

/** Builds the root when missing (about 80 s the first time, from Debian's packages) and returns its path. */
export async function systemdRoot(): Promise<string> {
  const { stdout } = await execFileAsync(join(REPO, 'scripts/systemd-container'), [], { timeout: 600_000 });
  return stdout.trim();
}

/** Where the daemon's files come from, and how they appear inside the container. */
export interface Installation {
  /** [host path, container path], bind-mounted read-only. */
  binds: [string, string][];
  /** [link, target] made in the container: the command the unit's ExecStart names. */
  links: [string, string][];
  /** Host files: the unit, the sysusers.d and tmpfiles.d files. */
  unit: string;
  sysusers: string;
  tmpfiles: string;
}

/** This checkout, as README's "Installing on a compute node" installs it (ExecStart=/usr/local/bin/nova-spawnd). */
export function checkoutInstallation(): Installation {
  return {
    binds: [[REPO, '/opt/nova-spawnd']],
    links: [['/usr/local/bin/nova-spawnd', '/opt/nova-spawnd/dist/src/cli.js']],
    unit: join(REPO, 'systemd/nova-spawnd.service'),
    sysusers: join(REPO, 'systemd/nova-spawnd.sysusers'),
    tmpfiles: join(REPO, 'systemd/nova-spawnd.tmpfiles'),
  };
}

/**
 * The Debian package installed on this machine: its files where Debian puts a package's. `root`: where its
 * tree is on the host ("/" once installed; a directory where `dpkg-deb -x` unpacked it, to try a .deb
 * without installing it); inside the container it is at its installed paths.
 */
export function packageInstallation(root = '/'): Installation {
  const command = '/usr/bin/nova-spawnd';
  const onHost = (path: string) => join(root, path);
  if (!existsSync(onHost(command))) throw new Error(`${onHost(command)} is missing: install the nova-spawnd package first (NOVA_SPAWND_TEST_INSTALLED=1)`);
  // /usr/bin/nova-spawnd links to the CLI in the package's tree, the directory above it that holds node_modules.
  const cli = resolve(dirname(command), readlinkSync(onHost(command)));
  let tree = dirname(cli);
  while (!existsSync(join(onHost(tree), 'node_modules'))) {
    if (tree === '/') throw new Error(`no node_modules above ${cli} in ${root}`);
    tree = dirname(tree);
  }
  const unit = ['/lib/systemd/system/nova-spawnd.service', '/usr/lib/systemd/system/nova-spawnd.service'].map(onHost).find((path) => existsSync(path));
  if (!unit) throw new Error(`no nova-spawnd.service under ${root}lib/systemd/system or ${root}usr/lib/systemd/system`);
  return {
    binds: [[onHost(tree), tree]],
    links: [[command, cli]],
    unit,
    sysusers: onHost('/usr/lib/sysusers.d/nova-spawnd.conf'),
    tmpfiles: onHost('/usr/lib/tmpfiles.d/nova-spawnd.conf'),
  };
}

/** NOVA_SPAWND_TEST_INSTALLED: unset, the checkout; 1, the installed package; a directory, a .deb unpacked there. */
export function installationUnderTest(): Installation {
  const installed = process.env['NOVA_SPAWND_TEST_INSTALLED'];
  if (!installed) return checkoutInstallation();
  return packageInstallation(installed === '1' ? '/' : installed);
}

export interface JournalEntry {
  MESSAGE: string;
  PRIORITY?: string;
  _PID?: string;
  _SYSTEMD_UNIT?: string;
  SYSLOG_IDENTIFIER?: string;
  [field: string]: unknown;
}

export class SystemdContainer {
  private constructor(
    private readonly nspawn: ChildProcess,
    private readonly output: { text: string },
    /** The container's PID 1 (systemd), as the host sees it. */
    readonly leader: number,
    readonly exited: Promise<unknown>,
  ) {}

  /** Boots the root with `binds` (read-only) and waits until its systemd has finished starting up. */
  static async boot(root: string, name: string, binds: [string, string][] = []): Promise<SystemdContainer> {
    const args = [
      `--directory=${root}`,
      '--boot',
      // No systemd-machined on this host (its PID 1 is not systemd): nothing to register with.
      '--register=no',
      '--keep-unit',
      '--volatile=overlay',
      `--machine=${name}`,
      '--console=pipe',
      ...binds.map(([host, inside]) => `--bind-ro=${host}:${inside}`),
    ];
    const nspawn = spawn('systemd-nspawn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { text: '' };
    nspawn.stdout!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
    nspawn.stderr!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
    const exited = once(nspawn, 'exit');
    const leader = await eventually(
      'the container to start systemd',
      () => {
        if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited ${nspawn.exitCode}:\n${output.text}`);
        const children = readFileSync(`/proc/${nspawn.pid}/task/${nspawn.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
        return children.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd');
      },
      30_000,
      50,
    );
    const container = new SystemdContainer(nspawn, output, leader, exited);
    // "running", or "degraded" if a unit of the minimal root failed: either way start-up is over, and with it
    // the boot's systemd-sysusers and systemd-tmpfiles, which must not race the installation. (--wait alone
    // fails at once while systemd's bus is not up yet.)
    await eventually(
      'the container to finish starting up',
      async () => {
        const { stdout } = await container.run(['systemctl', 'is-system-running', '--wait'], { allowFailure: true });
        return ['running', 'degraded'].includes(stdout.trim()) ? true : undefined;
      },
      60_000,
      100,
    );
    return container;
  }

  /** The console: systemd's boot messages, for a failure's report. */
  get console(): string {
    return this.output.text;
  }

  /** Runs a command in the container's namespaces and root; throws with its output if it fails. */
  async run(command: string[], options: { input?: string; allowFailure?: boolean } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
    const child = spawn('nsenter', [`--target=${this.leader}`, '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--root', '--wd', ...CONTAINER_ENV, ...command], {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A command that exits without reading all its input: its exit code tells, not an EPIPE here.
    child.stdin?.on('error', () => undefined).end(options.input);
    const [code] = (await once(child, 'exit')) as [number | null];
    const result = { stdout, stderr, code: code ?? -1 };
    if (result.code !== 0 && !options.allowFailure) throw new Error(`in the container, ${command.join(' ')} exited ${result.code}:\n${stdout}${stderr}`);
    return result;
  }

  /** Writes a file in the container (its parent made), owned by root unless `owner` ("user:group") says. */
  async writeFile(path: string, content: string, mode = '0644', owner = 'root:root'): Promise<void> {
    // Through cat: node's stdin for a child is a socket, which /dev/stdin cannot open.
    await this.run(['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1" && chown "$3" "$1"', 'sh', path, mode, owner], { input: content });
  }

  /** `systemctl show -p ...` of a unit, as a record. */
  async show(unit: string, properties: string[]): Promise<Record<string, string>> {
    const { stdout } = await this.run(['systemctl', 'show', unit, ...properties.map((property) => `--property=${property}`)]);
    return Object.fromEntries(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  /** The journal's entries of a unit (`journalctl -o json`), the daemon's and systemd's about it. */
  async journal(unit: string): Promise<JournalEntry[]> {
    const { stdout } = await this.run(['journalctl', '--unit', unit, '--output=json', '--no-pager', '--all']);
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as JournalEntry)
      // A MESSAGE journald could not store as text comes as an array of bytes.
      .map((entry) => (Array.isArray(entry.MESSAGE) ? { ...entry, MESSAGE: Buffer.from(entry.MESSAGE as number[]).toString() } : entry));
  }

  /** Halts the container (systemd-nspawn passes SIGTERM on as a poweroff) and waits for it to be gone. */
  async stop(): Promise<void> {
    if (this.nspawn.exitCode !== null || this.nspawn.signalCode !== null) return;
    this.nspawn.kill('SIGTERM');
    const timer = setTimeout(() => this.nspawn.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Installs the daemon as a package (or README's manual install) would: its files, the libvirt group
 * libvirt's package makes, the nova user and directories from the sysusers.d and tmpfiles.d files, the
 * configuration (0640 root:nova), and `dropIn` as /etc/systemd/system/nova-spawnd.service.d/test.conf.
 */
export async function installDaemon(container: SystemdContainer, installation: Installation, config: string, dropIn: string): Promise<void> {
  for (const [link, target] of installation.links) await container.run(['ln', '-sf', target, link]);
  await container.writeFile('/etc/systemd/system/nova-spawnd.service', readFileSync(installation.unit, 'utf8'));
  await container.writeFile('/usr/lib/sysusers.d/nova-spawnd.conf', readFileSync(installation.sysusers, 'utf8'));
  await container.writeFile('/usr/lib/tmpfiles.d/nova-spawnd.conf', readFileSync(installation.tmpfiles, 'utf8'));
  // As libvirt-daemon-system would (nova-spawnd.sysusers also makes it, if missing).
  await container.run(['groupadd', '--force', '--system', 'libvirt']);
  await container.run(['systemd-sysusers']);
  await container.run(['systemd-tmpfiles', '--create', '/usr/lib/tmpfiles.d/nova-spawnd.conf']);
  await container.writeFile('/etc/nova/nova-spawnd.conf', config, '0640', 'root:nova');
  await container.writeFile('/etc/systemd/system/nova-spawnd.service.d/test.conf', dropIn);
  await container.run(['systemctl', 'daemon-reload']);
}

/**
 * The nova.conf of a daemon in the container, on libvirt's test driver with the broker at `transportUrl`.
 * The container shares the host's network: the metadata API and metrics get ports of their own, not the
 * defaults other tests may hold.
 */
export async function containerDaemonConfig(host: string, transportUrl: string): Promise<string> {
  return [
    '[DEFAULT]',
    `host = ${host}`,
    `transport_url = ${transportUrl}`,
    'metadata_listen = 127.0.0.1',
    `metadata_listen_port = ${await closedPort()}`,
    '[nova_spawnd]',
    `metrics_listen_port = ${await closedPort()}`,
    '[libvirt]',
    'virt_type = qemu',
    'connection_uri = test:///default',
    '',
  ].join('\n');
}
