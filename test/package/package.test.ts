/**
 * The Debian package: scripts/package builds it; dpkg installs it on this machine, where the command on PATH
 * runs from it (check-config on the installed conffile, a spawn on libvirt's test driver) and a purge leaves
 * nothing behind but the guests' disks and the nova user (Debian keeps system users); then, under a real
 * systemd (a container), its maintainer scripts enable the unit without starting it, an upgrade restarts the
 * running daemon and keeps the edited conffile, and a purge stops it and removes its state.
 * The machine is shared: the test refuses to touch a nova-spawnd an operator installed, and afterAll purges
 * the package and removes the users and groups it created, whether the tests passed or not.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT, VERSION } from '../../src/version.js';
import { createVhost, eventually, type TestVhost } from '../bus/helpers/rabbit.js';
import { seedImage } from '../compute/seed-image.js';
import { documentedExample } from '../nova/plain-requests.js';
import { containerDaemonConfig, systemdRoot, SystemdContainer } from '../systemd/container.js';

const PACKAGE = 'nova-spawnd';
const UNIT_WANTS = '/etc/systemd/system/multi-user.target.wants/nova-spawnd.service';
/** Where the package's maintainer scripts and its unit keep state: purge must leave none of it. */
const STATE_PATHS = [
  '/var/lib/nova-spawnd',
  '/var/log/nova-spawnd',
  UNIT_WANTS,
  '/etc/systemd/system/nova-spawnd.service',
  '/var/lib/systemd/deb-systemd-helper-enabled/nova-spawnd.service.dsh-also',
  '/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/nova-spawnd.service',
  '/var/lib/systemd/deb-systemd-helper-masked/nova-spawnd.service',
];
const SAVED: [string, string][] = [
  ['/var/lib/nova-spawnd', 'saved-state'],
  ['/var/log/nova-spawnd', 'saved-logs'],
];
const GUEST_UUID = 'c0ffee00-0000-4000-8000-00000000d15c';
const STANDARD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 240_000, env: { ...process.env, NODE_OPTIONS: '', ...env } });
  if (result.error) throw result.error;
  return result;
}

/** dpkg, waiting while another engineer's apt or dpkg holds the lock (this machine is shared). */
function dpkg(args: string[]): SpawnSyncReturns<string> {
  for (let waited = 0; ; waited++) {
    const result = run('dpkg', args);
    if (result.status === 0 || !/lock/i.test(result.stderr) || waited >= 120) return result;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

const installedStatus = (): string => run('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', PACKAGE]).stdout.trim();
const exists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};
const entity = (database: 'passwd' | 'group', name: string): string | null => {
  const result = run('getent', [database, name]);
  return result.status === 0 ? result.stdout.trim() : null;
};

const debianVersion = `${VERSION.replace(/-/g, '~')}-1`;
let outputDir: string;
let deb: string;
/** The package's paths (from the archive) that did not exist before the install: purge must remove them. */
let pathsNew: string[];
let owned = false;
const before = { nova: null as string | null, novaGroup: null as string | null, libvirtGroup: null as string | null, varLibNova: false };

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the package test installs with dpkg: run it as root');
  if (installedStatus() !== '' && !installedStatus().startsWith('un'))
    throw new Error(`${PACKAGE} is already known to dpkg here (${installedStatus()}): this test installs and purges it, and leaves an operator's alone`);
  // From here on the package on this machine is the test's: afterAll purges it.
  owned = true;
  before.nova = entity('passwd', 'nova');
  before.novaGroup = entity('group', 'nova');
  before.libvirtGroup = entity('group', 'libvirt');
  before.varLibNova = exists('/var/lib/nova');

  outputDir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-package-'));
  // The embedded default (README command (1), test/cli/run.test.ts) keeps its state in /var/lib/nova-spawnd,
  // which a purge removes: kept aside, and put back by afterAll.
  for (const [path, copy] of SAVED) if (exists(path)) expect(run('cp', ['-a', path, join(outputDir, copy)]).status).toBe(0);
  const built = run(join(PACKAGE_ROOT, 'scripts/package'), ['--output-dir', outputDir]);
  if (built.status !== 0) throw new Error(`scripts/package failed (${built.status}):\n${built.stderr}`);
  deb = join(outputDir, `nova-spawnd_${debianVersion}_${run('dpkg', ['--print-architecture']).stdout.trim()}.deb`);
  // Paths as dpkg records them ("/usr/bin/nova-spawnd", from the archive's "./usr/bin/nova-spawnd").
  const archived = run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -t', 'sh', deb]).stdout.split('\n').filter(Boolean);
  pathsNew = archived.map((path) => path.replace(/^\.\/?/, '/').replace(/(.)\/$/, '$1')).filter((path) => !exists(path));
}, 300_000);

afterAll(() => {
  if (!owned) return;
  if (installedStatus() !== '' && !installedStatus().startsWith('un')) dpkg(['--purge', PACKAGE]);
  rmSync(join('/var/lib/nova/instances', GUEST_UUID), { recursive: true, force: true });
  if (!before.varLibNova) run('rmdir', ['--ignore-fail-on-non-empty', '/var/lib/nova/instances', '/var/lib/nova']);
  if (before.nova === null && entity('passwd', 'nova') !== null) run('userdel', ['nova']);
  if (before.novaGroup === null && entity('group', 'nova') !== null) run('groupdel', ['nova']);
  if (before.libvirtGroup === null && entity('group', 'libvirt') !== null) run('groupdel', ['libvirt']);
  if (outputDir) {
    // As they were: what a failed purge left goes, what was there before comes back.
    for (const [path, copy] of SAVED) {
      rmSync(path, { recursive: true, force: true });
      if (exists(join(outputDir, copy))) run('cp', ['-a', join(outputDir, copy), path]);
    }
    rmSync(outputDir, { recursive: true, force: true });
  }
}, 120_000);

test('scripts/package builds nova-spawnd_<version>-1_<arch>.deb: its fields, its files, no devDependencies', () => {
  const field = (name: string): string => run('dpkg-deb', ['--field', deb, name]).stdout.trim();
  expect(field('Package')).toBe(PACKAGE);
  expect(field('Version')).toBe(debianVersion);
  const depends = field('Depends').split(/,\s*/);
  expect(depends).toEqual(expect.arrayContaining(['nodejs (>= 20)', 'qemu-utils', 'libvirt-clients']));
  // From dpkg-shlibdeps on the compiled binding: the library it links, by its Debian name.
  expect(depends.some((dependency) => /^libvirt0 \(>= [^)]+\)$/.test(dependency))).toBe(true);
  expect(field('Recommends')).toBe('libvirt-daemon-system');
  const conffiles = run('sh', ['-c', 'dpkg-deb --ctrl-tarfile "$1" | tar -xO ./conffiles', 'sh', deb]).stdout;
  expect(conffiles).toBe('/etc/nova/nova-spawnd.conf\n');

  const files = run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -t', 'sh', deb]).stdout;
  for (const path of [
    './usr/bin/nova-spawnd',
    './usr/lib/nova-spawnd/package.json',
    './usr/lib/nova-spawnd/dist/src/cli.js',
    './usr/lib/nova-spawnd/dist/src/durable-io/worker.js',
    './usr/lib/nova-spawnd/node_modules/@unraid/libvirt/build/Release/libvirt.node',
    './usr/lib/nova-spawnd/node_modules/unix-dgram/build/Release/unix_dgram.node',
    './usr/lib/nova-spawnd/node_modules/amqplib/package.json',
    './lib/systemd/system/nova-spawnd.service',
    './usr/lib/sysusers.d/nova-spawnd.conf',
    './usr/lib/tmpfiles.d/nova-spawnd.conf',
    './etc/nova/nova-spawnd.conf',
    './usr/share/doc/nova-spawnd/copyright',
    './usr/share/doc/nova-spawnd/changelog.Debian.gz',
    './usr/share/doc/nova-spawnd/nova-spawnd.conf.sample.gz',
    './usr/share/man/man1/nova-spawnd.1.gz',
  ])
    expect(files.split('\n')).toContain(path);
  const devDependencies = Object.keys((JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { devDependencies: object }).devDependencies);
  for (const name of devDependencies) expect(files).not.toContain(`/node_modules/${name}/`);
  // dist/ holds src/ alone, without source maps of sources not shipped; an addon's build/ its .node alone.
  expect(files).not.toMatch(/^\.\/usr\/lib\/nova-spawnd\/dist\/(?!src\/|$)|^\.\/usr\/lib\/nova-spawnd\/dist\/.*\.map$|\/build\/Release\/obj\.target\//m);
});

test('dpkg -i installs it: nova-spawnd on PATH, check-config on the conffile, a spawn on the test driver', () => {
  const installed = dpkg(['-i', deb]);
  expect(installed.stderr).not.toMatch(/error|warning/i);
  expect(installed.status).toBe(0);
  expect(installedStatus()).toBe('ii');

  const path = { PATH: STANDARD_PATH };
  expect(run('sh', ['-c', 'command -v nova-spawnd'], path).stdout.trim()).toBe('/usr/bin/nova-spawnd');
  const version = run('nova-spawnd', ['--version'], path);
  expect(version.stdout.trim()).toBe(VERSION);
  expect(version.status).toBe(0);

  // The conffile, as installed: registered with dpkg, the daemon's group may read it, nobody else.
  expect(run('dpkg-query', ['-W', '-f=${Conffiles}', PACKAGE]).stdout).toMatch(/^ \/etc\/nova\/nova-spawnd\.conf [0-9a-f]{32}$/m);
  const conffile = statSync('/etc/nova/nova-spawnd.conf');
  expect(conffile.mode & 0o777).toBe(0o640);
  expect(conffile.uid).toBe(0);
  expect(entity('group', 'nova')?.split(':')[2]).toBe(String(conffile.gid));
  const checked = run('nova-spawnd', ['check-config'], path);
  expect(checked.stderr).toBe('');
  expect(checked.stdout).toContain('# configuration files read: /etc/nova/nova-spawnd.conf\n');
  expect(checked.stdout).toMatch(/^instances_path = \/var\/lib\/nova\/instances$/m);
  expect(checked.status).toBe(0);

  // sysusers and tmpfiles applied, the unit enabled (not started: the shipped configuration names no cloud).
  expect(run('id', ['-nG', 'nova']).stdout.trim().split(/\s+/)).toEqual(expect.arrayContaining(['nova', 'libvirt']));
  expect(statSync('/var/lib/nova/instances').uid).toBe(Number(entity('passwd', 'nova')!.split(':')[2]));
  expect(lstatSync(UNIT_WANTS).isSymbolicLink()).toBe(true);
  expect(readFileSync('/lib/systemd/system/nova-spawnd.service', 'utf8')).toMatch(/^ExecStart=\/usr\/bin\/nova-spawnd run /m);

  // The installed code, its native libvirt binding, qemu-img and the durable-io workers, end to end.
  const dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-package-spawn-'));
  try {
    chmodSync(dir, 0o755);
    const config = join(dir, 'nova.conf');
    writeFileSync(config, `[DEFAULT]\nstate_path = ${dir}\n[libvirt]\nvirt_type = qemu\nconnection_uri = test:///default\n`);
    const example = documentedExample();
    seedImage(join(dir, 'instances'), (example.image as { id: string }).id);
    const request = join(dir, 'request.json');
    writeFileSync(request, JSON.stringify(example));
    const spawned = run('nova-spawnd', ['spawn', '--config-file', config, '--request', request], path);
    expect(spawned.stderr).toContain('domain started');
    expect(JSON.parse(spawned.stdout)).toMatchObject({ uuid: '3f8c2f4e-5b7a-4c1d-9e2f-0a1b2c3d4e5f', outcome: 'spawned', drive: 'created' });
    expect(spawned.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("dpkg --purge removes its files, its state and logs and the unit's enablement; keeps the guests and the nova user", () => {
  expect(pathsNew.length).toBeGreaterThan(100);
  expect(pathsNew).toEqual(expect.arrayContaining(['/usr/bin/nova-spawnd', '/usr/lib/nova-spawnd', '/etc/nova/nova-spawnd.conf']));
  // What the running unit leaves (StateDirectory=, LogsDirectory=), and a guest's disk in Nova's instances_path.
  mkdirSync('/var/lib/nova-spawnd/embedded', { recursive: true });
  mkdirSync('/var/log/nova-spawnd', { recursive: true });
  writeFileSync('/var/log/nova-spawnd/nova-spawnd.log', 'a log line\n');
  const guest = join('/var/lib/nova/instances', GUEST_UUID);
  mkdirSync(guest, { recursive: true });
  writeFileSync(join(guest, 'disk'), 'a guest disk');

  const purged = dpkg(['--purge', PACKAGE]);
  expect(purged.stderr).not.toMatch(/error|warning/i);
  expect(purged.status).toBe(0);
  expect(installedStatus()).toMatch(/^(un|)$/);
  expect(pathsNew.filter(exists)).toEqual([]);
  expect(STATE_PATHS.filter(exists)).toEqual([]);
  // The guests' disks are the cloud's, and Debian keeps system users on purge (files like these are theirs).
  expect(readFileSync(join(guest, 'disk'), 'utf8')).toBe('a guest disk');
  expect(entity('passwd', 'nova')).not.toBeNull();
  rmSync(guest, { recursive: true });
});

/**
 * The package's maintainer scripts under a real systemd: dpkg inside a container booted from
 * scripts/systemd-container's Debian root (throw-away overlay), as on a node. That root has no nodejs package
 * (node is the host's, bind-mounted) and no libvirt-clients (virsh: the compute node's facts in control-plane
 * mode only), so dpkg is told to ignore those two dependencies and no other.
 */
describe('the package under a real systemd', () => {
  let container: SystemdContainer;
  let vhost: TestVhost;
  const inContainer = '/srv/deb';
  const show = () => container.show('nova-spawnd.service', ['LoadState', 'ActiveState', 'SubState', 'StatusText', 'MainPID', 'UnitFileState']);
  const containerDpkg = (args: string[]) => container.run(['dpkg', '--ignore-depends=nodejs,libvirt-clients', ...args]);

  beforeAll(async () => {
    const root = await systemdRoot();
    vhost = await createVhost('package');
    container = await SystemdContainer.boot(root, `nova-spawnd-package-${process.pid}`, [
      ['/usr/bin/node', '/usr/bin/node'],
      [outputDir, inContainer],
    ]);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
    await vhost?.remove();
  });

  it('installs enabled and not started; started, it is active and runs from /usr/bin; an upgrade restarts it; purge stops it and leaves nothing', async () => {
    await containerDpkg(['-i', join(inContainer, deb.slice(outputDir.length + 1))]);
    expect(await show()).toMatchObject({ LoadState: 'loaded', UnitFileState: 'enabled', ActiveState: 'inactive' });
    expect((await container.run(['id', '-nG', 'nova'])).stdout.trim().split(/\s+/)).toEqual(expect.arrayContaining(['nova', 'libvirt']));
    expect((await container.run(['stat', '-c', '%U:%G %a', '/etc/nova/nova-spawnd.conf'])).stdout.trim()).toBe('root:nova 640');

    // The operator names the cloud (here: the host's broker; the container shares the host's network, so ports
    // of its own), then starts it. Type=notify: start returns once the daemon said READY=1.
    const config = await containerDaemonConfig(`package-test-${process.pid}`, vhost.url);
    await container.writeFile('/etc/nova/nova-spawnd.conf', config, '0640', 'root:nova');
    await container.run(['systemctl', 'start', 'nova-spawnd.service']);
    const started = await show();
    expect(started).toMatchObject({ ActiveState: 'active', SubState: 'running' });
    expect(started['StatusText']).toMatch(/consuming/);
    expect((await container.run(['cat', `/proc/${started['MainPID']}/cmdline`])).stdout.split('\0')).toEqual(
      expect.arrayContaining(['/usr/bin/nova-spawnd', 'run']),
    );

    // Reinstalling is an upgrade to dpkg: postinst try-restarts a running daemon, and keeps the edited conffile.
    await containerDpkg(['-i', join(inContainer, deb.slice(outputDir.length + 1))]);
    const restarted = await eventually('the daemon to be restarted', async () => {
      const state = await show();
      return state['ActiveState'] === 'active' && state['MainPID'] !== started['MainPID'] && state['MainPID'] !== '0' ? state : undefined;
    });
    expect(restarted['StatusText']).toMatch(/consuming/);
    expect((await container.run(['cat', '/etc/nova/nova-spawnd.conf'])).stdout).toBe(config);

    // StateDirectory= and LogsDirectory= exist now that the unit ran: purge takes them too.
    expect((await container.run(['ls', '-d', '/var/lib/nova-spawnd', '/var/log/nova-spawnd'])).code).toBe(0);
    await containerDpkg(['--purge', 'nova-spawnd']);
    expect(await show()).toMatchObject({ LoadState: 'not-found', ActiveState: 'inactive' });
    // /var/lib/nova too, which tmpfiles made: empty, it goes (a guest's disks there keep it, see above).
    const left = await container.run(['sh', '-c', `for p in ${[...STATE_PATHS, '/var/lib/nova', '/usr/lib/nova-spawnd', '/usr/bin/nova-spawnd', '/etc/nova/nova-spawnd.conf', '/lib/systemd/system/nova-spawnd.service'].join(' ')}; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done; true`]);
    expect(left.stdout).toBe('');
  }, 120_000);
});
