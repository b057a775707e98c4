import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ExternalIsoToolError, makeDrive, placeDrive, PUBLISHER } from '../../src/configdrive/make-drive.js';
import { readIso } from '../../src/configdrive/iso9660/index.js';
import { readVfat } from '../../src/configdrive/vfat/index.js';

const tree = new Map<string, Uint8Array>([
  ['openstack/latest/meta_data.json', Buffer.from('{"uuid": "d6b1e1a2-4d2c-4a53-9b44-0c0a8e8f2a11"}')],
  ['openstack/latest/user_data', Buffer.from('#!/bin/sh\necho hi\n')],
  ['ec2/latest/meta-data.json', Buffer.from('{}')],
]);
const recordedAt = new Date('2026-11-26T12:00:00Z');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-drive-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function isoinfo(...args: string[]): string {
  return execFileSync('isoinfo', args, { encoding: 'utf8' });
}

test('the built-in ISO writer makes a drive genisoimage\'s isoinfo reads, labelled config-2, with our publisher', async () => {
  const path = join(dir, 'disk.config');
  expect(await makeDrive(tree, path, { format: 'iso9660', mkisofsCmd: null, recordedAt })).toBe('created');
  const description = isoinfo('-d', '-i', path);
  expect(description).toContain('Volume id: config-2');
  expect(description).toContain(`Publisher id: ${PUBLISHER}`);
  expect(isoinfo('-R', '-x', '/openstack/latest/user_data', '-i', path)).toBe('#!/bin/sh\necho hi\n');
  expect(readIso(readFileSync(path)).tree).toEqual(tree);
});

test('a VFAT drive is 64 MiB and sparse, and fsck.fat finds nothing wrong', async () => {
  const path = join(dir, 'disk.config');
  expect(await makeDrive(tree, path, { format: 'vfat', mkisofsCmd: null, recordedAt })).toBe('created');
  const stat = statSync(path);
  expect(stat.size).toBe(64 * 1024 * 1024);
  expect(stat.blocks * 512).toBeLessThan(1024 * 1024);
  execFileSync('fsck.fat', ['-n', path]);
  expect(readVfat(readFileSync(path)).tree).toEqual(tree);
});

test('with mkisofs_cmd set, the external tool builds the drive with Nova\'s arguments', async () => {
  const path = join(dir, 'disk.config');
  expect(await makeDrive(tree, path, { format: 'iso9660', mkisofsCmd: 'genisoimage', recordedAt })).toBe('created');
  const description = isoinfo('-d', '-i', path);
  expect(description).toContain('Volume id: config-2');
  expect(description).toContain(`Publisher id: ${PUBLISHER}`);
  expect(description).toMatch(/Joliet with UCS level 3 found/);
  expect(description).toMatch(/Rock Ridge signatures version 1 found/);
  expect(isoinfo('-R', '-x', '/openstack/latest/meta_data.json', '-i', path)).toBe(
    Buffer.from(tree.get('openstack/latest/meta_data.json')!).toString(),
  );
});

test('an existing drive is never replaced, whatever the format', async () => {
  const path = join(dir, 'disk.config');
  writeFileSync(path, 'the drive the guest already saw');
  expect(await makeDrive(tree, path, { format: 'iso9660', mkisofsCmd: null, recordedAt })).toBe('exists');
  expect(await makeDrive(tree, path, { format: 'vfat', mkisofsCmd: null, recordedAt })).toBe('exists');
  expect(readFileSync(path, 'utf8')).toBe('the drive the guest already saw');
});

test('a missing or failing external tool is an error naming the option and command, and leaves nothing behind', async () => {
  const path = join(dir, 'disk.config');
  const missing = makeDrive(tree, path, { format: 'iso9660', mkisofsCmd: '/nonexistent/mkisofs', recordedAt });
  await expect(missing).rejects.toThrow(ExternalIsoToolError);
  await expect(missing).rejects.toThrow('[DEFAULT] mkisofs_cmd = "/nonexistent/mkisofs" failed: no such command');
  await expect(makeDrive(tree, path, { format: 'iso9660', mkisofsCmd: 'false', recordedAt })).rejects.toThrow(/mkisofs_cmd = "false" failed/);
  expect(execFileSync('ls', ['-A', dir], { encoding: 'utf8' })).toBe('');
});

test.each([
  ['makeDrive', makeDrive],
  ['placeDrive', placeDrive],
] as const)('%s leaves the drive alone in its directory: the staged image became it', async (_name, place) => {
  const path = join(dir, 'disk.config');
  expect(await place(tree, path, { format: 'iso9660', mkisofsCmd: null, recordedAt })).toBe('created');
  expect(execFileSync('ls', ['-A', dir], { encoding: 'utf8' })).toBe('disk.config\n');
  expect(statSync(path).nlink).toBe(1);
  expect(readIso(readFileSync(path)).tree).toEqual(tree);
});
