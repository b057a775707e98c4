import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { readDrive } from '../../src/configdrive/read-drive.js';
import { CACHED_IMAGE_ID } from '../bus/helpers/compute.js';
import { castBody, newInstance, novaCastTemplate } from '../bus/helpers/messages.js';
import { seedImage } from '../compute/seed-image.js';
import { novaWireBody } from '../nova/wire-bodies.js';
import { documentedExample } from '../nova/plain-requests.js';
import { runCli } from './run-cli.js';

let dir: string;
let cast: Buffer;
beforeAll(async () => {
  // A real build_and_run_instance cast, made by Nova's ComputeAPI and oslo.messaging's rabbit driver.
  cast = (await novaWireBody('full', '6.0')).body;
});
beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-drive-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, data: string | Buffer): string {
  writeFileSync(join(dir, name), data);
  return join(dir, name);
}

test('drive build --message takes a raw cast off the wire; drive ls and cat read the ISO back, as isoinfo does', () => {
  const message = file('cast.json', cast);
  const iso = join(dir, 'disk.config');
  const built = runCli(['drive', 'build', '--message', message, '-o', iso]);
  expect(built.stderr).toMatch(/INFO nova_spawnd.drive \[-\] \[instance: 6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10\] config drive built format=iso9660 files=\d+/);
  expect(built.status).toBe(0);

  const listing = runCli(['drive', 'ls', iso]);
  expect(listing.status).toBe(0);
  expect(listing.stdout).toMatch(/^# iso9660, label config-2, \d+ files\n/);
  expect(listing.stdout).toMatch(/ \/openstack\/2012-08-10\/meta_data\.json\n/);
  expect(listing.stdout).toMatch(/ \/ec2\/latest\/meta-data\.json\n/);

  const ours = runCli(['drive', 'cat', iso, '/openstack/latest/meta_data.json']);
  expect(ours.status).toBe(0);
  const theirs = execFileSync('isoinfo', ['-R', '-x', '/openstack/latest/meta_data.json', '-i', iso], { encoding: 'utf8' });
  expect(ours.stdout).toBe(theirs);
  expect(JSON.parse(ours.stdout)).toMatchObject({ uuid: '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10' });
});

test('drive build --request takes the documented plain request; --format vfat makes a VFAT drive mtools reads', () => {
  const request = file('request.json', JSON.stringify(documentedExample()));
  const image = join(dir, 'disk.config');
  expect(runCli(['drive', 'build', '--request', request, '--format', 'vfat', '-o', image]).status).toBe(0);
  expect(runCli(['drive', 'ls', image]).stdout).toMatch(/^# vfat, label config-2, /);
  const userData = runCli(['drive', 'cat', image, 'openstack/latest/user_data']);
  expect(userData.status).toBe(0);
  const theirs = execFileSync('mtype', ['-i', image, '::/openstack/latest/user_data']);
  expect(Buffer.from(userData.stdout)).toEqual(theirs);
});

test('with mkisofs_cmd set in the configuration, the external tool builds the drive', () => {
  const config = file('nova.conf', '[DEFAULT]\nmkisofs_cmd = genisoimage\n');
  const iso = join(dir, 'disk.config');
  expect(runCli(['drive', 'build', '--config-file', config, '--message', file('cast.json', cast), '-o', iso]).status).toBe(0);
  // genisoimage signs its own application id; our writer's is NOVA-SPAWND.
  expect(execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' })).toMatch(/Application id: GENISOIMAGE/);
  expect(runCli(['drive', 'ls', iso]).stdout).toMatch(/^# iso9660, label config-2,/);
});

test.each([
  ['not JSON', Buffer.from('{"oslo.version": '), /body/],
  ['a bad instance uuid', null, /instance\.uuid/],
])('a bad message (%s) exits 65 naming what is wrong, and writes nothing', (_, body, reason) => {
  const bad = body ?? Buffer.from(cast.toString().replace(/6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10/g, 'not-a-uuid'));
  const result = runCli(['drive', 'build', '--message', file('bad.json', bad), '-o', join(dir, 'disk.config')]);
  expect(result.status).toBe(65);
  expect(result.stderr).toMatch(reason);
  expect(() => readFileSync(join(dir, 'disk.config'))).toThrow();
});

test('an existing OUT is never replaced (73); a plain request given as --message is a usage error (64)', () => {
  const existing = file('disk.config', 'keep me');
  const result = runCli(['drive', 'build', '--message', file('cast.json', cast), '-o', existing]);
  expect(result.status).toBe(73);
  expect(readFileSync(existing, 'utf8')).toBe('keep me');
  const plain = file('request.json', JSON.stringify(documentedExample()));
  expect(runCli(['drive', 'build', '--message', plain, '-o', join(dir, 'x')]).status).toBe(64);
});

test('drive cat of a missing path or a non-image exits non-zero with a clear message', () => {
  const iso = join(dir, 'disk.config');
  runCli(['drive', 'build', '--message', file('cast.json', cast), '-o', iso]);
  const missing = runCli(['drive', 'cat', iso, '/openstack/nope']);
  expect(missing.status).toBe(64);
  expect(missing.stderr).toContain('has no file /openstack/nope');
  const junk = runCli(['drive', 'ls', file('junk.img', Buffer.alloc(4096, 7))]);
  expect(junk.status).toBe(65);
});

/** meta_data.json without its random_seed, which every build draws anew; every other file as it is. */
function comparable(tree: ReadonlyMap<string, Uint8Array>): Map<string, string> {
  return new Map(
    [...tree].map(([path, data]) => {
      const text = Buffer.from(data).toString('latin1');
      return [path, path.endsWith('/meta_data.json') ? text.replace(/"random_seed": "[^"]*"/, '"random_seed": "-"') : text];
    }),
  );
}

describe.each([
  { label: 'pc (x86_64 default)', conf: {}, edit: () => {} },
  { label: 'q35', conf: { libvirt: 'hw_machine_type = x86_64=q35' }, edit: () => {} },
  { label: 'vfat', conf: { DEFAULT: 'config_drive_format = vfat' }, edit: () => {} },
  {
    label: 'ephemeral + swap',
    conf: {},
    edit: (_args: Record<string, Record<string, unknown>>, data: Record<string, unknown>) => {
      Object.assign((data['flavor'] as Record<string, Record<string, unknown>>)['nova_object.data']!, { ephemeral_gb: 1, swap: 512 });
    },
  },
  {
    label: 'hw_disk_bus=scsi',
    conf: {},
    edit: (args: Record<string, Record<string, unknown>>) => {
      args['image']!['properties'] = { ...(args['image']!['properties'] as object), hw_disk_bus: 'scsi', hw_scsi_model: 'virtio-scsi' };
    },
  },
])('drive build --message writes the drive the spawn pipeline attaches: $label', ({ conf, edit }) => {
  test('the same files with the same bytes as the disk.config of `spawn` on test:///default (random_seed aside)', async () => {
    chmodSync(dir, 0o755);
    const template = await novaCastTemplate('6.0');
    const instance = newInstance();
    const body = castBody(template, instance, (inner, data) => {
      data['config_drive'] = 'True';
      edit(inner['args'] as Record<string, Record<string, unknown>>, data);
    });
    const sections: Record<string, string[]> = {
      DEFAULT: [`state_path = ${dir}`],
      libvirt: ['virt_type = qemu', 'connection_uri = test:///default'],
    };
    for (const [section, line] of Object.entries(conf)) sections[section] = [...(sections[section] ?? []), line];
    const config = file('nova.conf', Object.entries(sections).map(([section, lines]) => `[${section}]\n${lines.join('\n')}\n`).join('\n'));
    seedImage(join(dir, 'instances'), CACHED_IMAGE_ID);
    const message = file('cast.json', body);

    const spawned = runCli(['spawn', '--config-file', config, '--message', message]);
    expect(spawned.stderr).not.toMatch(/ERROR/);
    expect(spawned.status).toBe(0);
    const built = join(dir, 'built.config');
    expect(runCli(['drive', 'build', '--config-file', config, '--message', message, '-o', built]).status).toBe(0);

    const attached = readDrive(readFileSync(join(dir, 'instances', instance.uuid, 'disk.config')));
    const ours = readDrive(readFileSync(built));
    expect(ours.format).toBe(attached.format);
    expect(comparable(ours.tree)).toEqual(comparable(attached.tree));
    // Not vacuous: the root device the EC2 mapping names is the one the libvirt driver gave the root disk.
    const ec2 = JSON.parse(Buffer.from(ours.tree.get('ec2/latest/meta-data.json')!).toString()) as { 'block-device-mapping': Record<string, string> };
    expect(ec2['block-device-mapping']['root']).toMatch(/^\/dev\/(vd|sd)a$/);
  });
});
