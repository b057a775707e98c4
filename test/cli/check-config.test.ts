import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { renderSample } from '../../src/config/render.js';
import { runCli } from './run-cli.js';

const repo = new URL('../../', import.meta.url).pathname;
const sample = join(repo, 'etc/nova-spawnd.conf.sample');
const fixtures = join(repo, 'test/fixtures');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('etc/nova-spawnd.conf.sample is up to date with the schema (regenerate: npm run -s sample > etc/nova-spawnd.conf.sample)', () => {
  expect(readFileSync(sample, 'utf8')).toBe(renderSample());
});

test('the sample file itself is a valid configuration', () => {
  const result = runCli(['check-config', '--config-file', sample]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('config_drive_format = iso9660');
});

test('check-config prints the effective configuration with secrets masked', () => {
  const result = runCli(['check-config', '--config-file', join(fixtures, 'nova.conf')]);
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('transport_url = rabbit://nova:****@rabbit1:5672,nova:****@rabbit2:5672/');
  expect(result.stdout).toContain('metadata_proxy_shared_secret = ****');
  expect(result.stdout).not.toMatch(/s3cr3t|metadata secret/);
  expect(result.stdout).toContain('host = compute-01.example.org');
  expect(result.stderr).toMatch(/WARNING .*ignoring options nova-spawnd does not use: \[DEFAULT\] compute_driver/);
});

test.each([
  ['[DEFAULT]\nconfig_drive_format = udf\n', '[DEFAULT] config_drive_format = "udf": must be one of "iso9660", "vfat"'],
  ['[libvirt]\nvirt_type = xen\n', '[libvirt] virt_type = "xen"'],
  ['[DEFAULT]\nmetadata_listen_port = -5\n', '[DEFAULT] metadata_listen_port = "-5": must be an integer between 0 and 65535'],
])('a bad value exits 78 and says where: %j', (text, message) => {
  const path = join(dir, 'bad.conf');
  writeFileSync(path, text);
  const result = runCli(['check-config', '--config-file', path]);
  expect(result.status).toBe(78);
  expect(result.stderr).toContain(`${path}:2: ${message}`);
  expect(result.stdout).toBe('');
});

test('a missing --config-file exits 78 naming it', () => {
  const result = runCli(['check-config', '--config-file', join(dir, 'nope.conf')]);
  expect(result.status).toBe(78);
  expect(result.stderr).toContain(`configuration file ${join(dir, 'nope.conf')}: no such file`);
});

test('a malformed file exits 78 with its line', () => {
  const path = join(dir, 'broken.conf');
  writeFileSync(path, '[DEFAULT]\nno assignment here\n');
  const result = runCli(['check-config', '--config-file', path]);
  expect(result.status).toBe(78);
  expect(result.stderr).toContain(`${path}:2: no ':' or '=' found in assignment`);
});

test('an unknown command or option is a usage error (64)', () => {
  expect(runCli(['frobnicate']).status).toBe(64);
  expect(runCli(['check-config', '--bogus']).status).toBe(64);
});
