/**
 * --config-dir and --config-file as oslo.config reads them: each in command-line order, a directory's *.conf
 * files sorted, the later value winning; compared with oslo.config itself (test/helpers/oslo_config_values.py,
 * Nova's option definitions) on the same command line. And --version.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadFromArgs } from '../../src/cli/config-options.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { runCli } from './run-cli.js';

const OSLO_VALUES = join(PACKAGE_ROOT, 'test/helpers/oslo_config_values.py');
/** Options each file sets; a multi-valued one gathers every file's values. */
const OPTIONS = [
  ['DEFAULT', 'host'],
  ['DEFAULT', 'debug'],
  ['DEFAULT', 'max_concurrent_builds'],
  ['DEFAULT', 'instances_path'],
  ['oslo_messaging_notifications', 'driver'],
] as const;

let dir: string;
let confDir: string;
let main: string;

beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-config-dir-'));
  confDir = join(dir, 'nova-spawnd.conf.d');
  mkdirSync(confDir);
  main = join(dir, 'nova.conf');
  writeFileSync(main, '[DEFAULT]\nhost = from-file\ndebug = true\nmax_concurrent_builds = 3\n[oslo_messaging_notifications]\ndriver = messaging\n');
  // Read in name order whatever order they were written in; not the hidden one, not the .txt. oslo.config
  // with Nova's options requires the keystone sections' auth_url.
  writeFileSync(join(confDir, '00-auth.conf'), ['placement', 'neutron', 'service_user'].map((section) => `[${section}]\nauth_url = http://keystone.test/v3\n`).join(''));
  writeFileSync(join(confDir, '20-builds.conf'), '[DEFAULT]\nmax_concurrent_builds = 7\n[oslo_messaging_notifications]\ndriver = messagingv2\n');
  writeFileSync(join(confDir, '10-host.conf'), '[DEFAULT]\nhost = from-dir\nmax_concurrent_builds = 5\ninstances_path = $state_path/guests\n');
  writeFileSync(join(confDir, '.30-hidden.conf'), '[DEFAULT]\nhost = hidden\n');
  writeFileSync(join(confDir, '40-notes.txt'), '[DEFAULT]\nhost = notes\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function osloValues(args: string[]): Record<string, Record<string, unknown>> {
  return JSON.parse(execFileSync('/usr/bin/python3', [OSLO_VALUES, ...args], { input: JSON.stringify(OPTIONS), stdio: ['pipe', 'pipe', 'ignore'] }).toString()) as Record<string, Record<string, unknown>>;
}

function ourValues(args: string[]): Record<string, Record<string, unknown>> {
  const config = loadFromArgs(args).config as unknown as Record<string, Record<string, unknown>>;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, option] of OPTIONS) (out[section] ??= {})[option] = config[section]![option];
  return out;
}

test.each([
  ['a file, then a directory that overrides it', (): string[] => ['--config-file', main, '--config-dir', confDir]],
  ['a directory, then a file that overrides it', (): string[] => ['--config-dir', confDir, '--config-file', main]],
  ['a directory, and one of its files again (--config-dir=)', (): string[] => [`--config-dir=${confDir}`, '--config-file', join(confDir, '10-host.conf')]],
])("%s: the values oslo.config reads from the same command line", (_name, args) => {
  expect(ourValues(args())).toEqual(osloValues(args()));
});

test('the files read, in order: the --config-file, then the directory sorted by name, the later value winning', () => {
  const loaded = loadFromArgs(['--config-file', main, '--config-dir', confDir]);
  expect(loaded.files).toEqual([main, ...['00-auth.conf', '10-host.conf', '20-builds.conf'].map((name) => join(confDir, name))]);
  expect(loaded.config.DEFAULT).toMatchObject({ host: 'from-dir', debug: true, max_concurrent_builds: 7, instances_path: '/var/lib/nova/guests' });
  expect(loaded.config.oslo_messaging_notifications.driver).toEqual(['messaging', 'messagingv2']);
});

test('an empty --config-dir adds nothing; check-config lists the files it read', () => {
  const empty = join(dir, 'empty.d');
  mkdirSync(empty);
  const result = runCli(['check-config', '--config-file', main, '--config-dir', empty, '--config-dir', confDir]);
  expect(result.stderr).not.toContain('ERROR');
  expect(result.status).toBe(0);
  const read = [main, ...['00-auth.conf', '10-host.conf', '20-builds.conf'].map((name) => join(confDir, name))];
  expect(result.stdout).toContain(`# configuration files read: ${read.join(', ')}\n`);
  expect(result.stdout).toMatch(/^host = from-dir$/m);
});

test.each([
  ['missing', (): string => join(dir, 'nope.d'), 'no such directory (--config-dir)'],
  ['a file', (): string => main, 'not a directory (--config-dir)'],
])('a --config-dir that is %s exits 78 naming it, as oslo.config refuses a missing one', (_name, path, reason) => {
  const result = runCli(['check-config', '--config-file', main, '--config-dir', path()]);
  expect(result.status).toBe(78);
  expect(result.stderr).toContain(`configuration file ${path()}: ${reason}`);
  expect(result.stdout).toBe('');
});

test('a bad value in a directory file names that file and line', () => {
  writeFileSync(join(confDir, '30-bad.conf'), '[DEFAULT]\n\nmax_concurrent_builds = many\n');
  const result = runCli(['check-config', '--config-dir', confDir]);
  expect(result.status).toBe(78);
  expect(result.stderr).toContain(`${join(confDir, '30-bad.conf')}:3: [DEFAULT] max_concurrent_builds = "many"`);
});

test('--version prints the version of package.json and exits 0', () => {
  const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  const result = runCli(['--version']);
  expect(result).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
});
