/**
 * The records on disk: what a record holds, the file's round trip, atomic 0600 writes, a scan at start
 * that skips (and logs) what it cannot read, and a service that answers the same after a restart.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookup } from '../../src/metadata-api/lookup.js';
import { decodeRecord, encodeRecord, MetadataRecordError } from '../../src/metadata-api/record.js';
import { openMetadataRegistry } from '../../src/metadata-api/registry.js';
import { loadInstanceMetadata, RECORD_FILE, saveInstanceMetadata } from '../../src/metadata-api/store.js';
import { instanceDir } from '../../src/virt/instance-paths.js';
import { bareRequest, fullRequest, USER_DATA } from '../metadata/fixtures.js';
import { driveOnly, injectedNetworkRequest, memoryLogger, proxyHeaders, rawRequest, served, v1RecordText, withServer } from './fixtures.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'nova-spawnd-metadata-store-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every path the service can answer for an instance, with what it answers. */
function answers(record: ReturnType<typeof served>['record']): unknown[] {
  const paths = [
    ...['latest', '2013-04-04', '2020-10-14', '2012-08-10'].flatMap((v) => ['', '/meta_data.json', '/user_data', '/vendor_data.json', '/vendor_data2.json', '/network_data.json'].map((f) => `/openstack/${v}${f}`)),
    '/openstack/content/0000', '/openstack/content/0001', '/openstack/content/0002', '/latest/meta-data/', '/1.0/meta-data/', '/latest/meta-data/public-keys/0/openssh-key',
    '/latest/meta-data/block-device-mapping/', '/2009-04-04/user-data', '/latest/meta-data/ami-launch-index', '/latest/meta-data/placement/availability-zone',
  ];
  return paths.map((path) => [path, lookup(record.metadata, path, '192.0.2.1')]);
}

describe('MetadataRecord', () => {
  test('holds the project and every fixed IP of the VIFs, IPv6 in its canonical spelling', () => {
    const { record } = served();
    expect(record.project_id).toBe('c0ffee00c0ffee00c0ffee00c0ffee00');
    expect(record.fixed_ips).toEqual(['10.0.0.5', '2001:db8:1:0:f816:3eff:fe12:3456', '172.16.3.10', '2001:db8:2::10']);
    expect(served(bareRequest()).record.fixed_ips).toEqual([]);
  });

  test.each([
    ['full', served()],
    ['bare', served(bareRequest())],
  ])('%s: the file round-trips to a record that answers every path the same', (_name, instance) => {
    const decoded = decodeRecord(encodeRecord({ ...instance.record, password: 'posted' }));
    expect(decoded.password).toBe('posted');
    expect(decoded.fixed_ips).toEqual(instance.record.fixed_ips);
    expect(answers(decoded)).toEqual(answers(instance.record));
  });

  test.each([
    ['full', served()],
    ['injected network', served(injectedNetworkRequest())],
  ])('%s: the file holds neither the admin password nor the injected files', (_name, instance) => {
    const text = encodeRecord(instance.record);
    const decoded = [...text.matchAll(/"([A-Za-z0-9+/]{4,}={0,2})"/g)].map((match) => Buffer.from(match[1]!, 'base64').toString('latin1'));
    const held = [text, ...decoded].join('\n');
    expect(driveOnly(instance.request).filter((secret) => held.includes(secret))).toEqual([]);
    expect(held).toContain(USER_DATA);
  });

  test.each([
    ['full', served()],
    ['injected network', served(injectedNetworkRequest())],
  ])('%s: a v1 record, which held them, is read without them and answers every path as a record saved now', (_name, instance) => {
    const text = v1RecordText(instance);
    expect(text).toContain(Buffer.from('Welcome to web-01\n').toString('base64'));
    expect(answers(decodeRecord(text))).toEqual(answers(instance.record));
  });

  test.each([
    ['format', (r: Record<string, unknown>) => ({ ...r, format: 'other' }), 'record.format'],
    ['uuid', (r: Record<string, unknown>) => ({ ...r, uuid: 7 }), 'record.uuid'],
    ['fixed IP', (r: Record<string, unknown>) => ({ ...r, fixed_ips: ['10.0.0.005'] }), 'record.fixed_ips[0]'],
    ['EC2 version', (r: Record<string, unknown>) => ({ ...r, ec2: (r['ec2'] as unknown[]).slice(1) }), 'record.ec2'],
    ['OpenStack version', (r: Record<string, unknown>) => ({ ...r, openstack: [...(r['openstack'] as unknown[]), ['2099-01-01', []]] }), 'record.openstack[10][0]'],
    ['content file', (r: Record<string, unknown>) => ({ ...r, content: [['0000', 'not base64!']] }), 'record.content[0][1]'],
    ['EC2 tree', (r: Record<string, unknown>) => ({ ...r, ec2: (r['ec2'] as [string, object][]).map(([v, d]) => [v, { ...d, meta_data: '[1' }]) }), 'record.ec2[0][1].meta_data'],
  ])('a damaged %s is a MetadataRecordError naming the field', (_name, damage, field) => {
    const text = JSON.stringify(damage(JSON.parse(encodeRecord(served().record)) as Record<string, unknown>));
    expect(() => decodeRecord(text)).toThrow(MetadataRecordError);
    expect(() => decodeRecord(text)).toThrow(field);
  });
});

describe('saveInstanceMetadata and loadInstanceMetadata', () => {
  test('the record is written whole, 0600, with no temporary file left', async () => {
    const { record } = served();
    const directory = instanceDir(root, record.uuid);
    await mkdir(directory);
    await saveInstanceMetadata(directory, record);
    await saveInstanceMetadata(directory, { ...record, password: 'again' });
    expect(await readdir(directory)).toEqual([RECORD_FILE]);
    expect((await stat(join(directory, RECORD_FILE))).mode & 0o777).toBe(0o600);
    expect(decodeRecord(await readFile(join(directory, RECORD_FILE), 'utf8')).password).toBe('again');
  });

  test('a save into a directory that does not exist fails and leaves nothing', async () => {
    await expect(saveInstanceMetadata(join(root, 'missing'), served().record)).rejects.toThrow('ENOENT');
    expect(await readdir(root)).toEqual([]);
  });

  test('the scan finds every record, and logs and skips the corrupt ones', async () => {
    const good = served();
    const other = served(fullRequest({ uuid: '0b0e2f3c-1111-4222-8333-444455556666' }));
    for (const instance of [good, other]) {
      await mkdir(instanceDir(root, instance.record.uuid));
      await saveInstanceMetadata(instanceDir(root, instance.record.uuid), instance.record);
    }
    const truncated = 'aaaaaaaa-0000-4000-8000-000000000001';
    await mkdir(join(root, truncated));
    await writeFile(join(root, truncated, RECORD_FILE), encodeRecord(good.record).slice(0, 500));
    const misplaced = 'aaaaaaaa-0000-4000-8000-000000000002';
    await mkdir(join(root, misplaced));
    await writeFile(join(root, misplaced, RECORD_FILE), encodeRecord(good.record));
    await mkdir(join(root, '_base'));
    await writeFile(join(root, 'compute_nodes'), 'not a directory');

    const { log, lines } = memoryLogger();
    const records = await loadInstanceMetadata(root, log);
    expect(records.map((record) => record.uuid).sort()).toEqual([other.record.uuid, good.record.uuid].sort());
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toContain(`ERROR test metadata record corrupt, instance not served`);
    expect(lines.find((line) => line.includes(truncated))).toContain('JSON');
    expect(lines.find((line) => line.includes(misplaced))).toContain(`not the instance directory's name ${misplaced}`);
  });

  test('no instances_path yet: no records', async () => {
    expect(await loadInstanceMetadata(join(root, 'none'), memoryLogger().log)).toEqual([]);
  });
});

describe('after a daemon restart', () => {
  test('the service answers from the saved records, the posted password included', async () => {
    const instance = served();
    const headers = proxyHeaders(instance.record.uuid, instance.record.project_id);
    await mkdir(instanceDir(root, instance.record.uuid));
    const paths = ['/openstack/latest/meta_data.json', '/openstack/2013-04-04/meta_data.json', '/latest/meta-data/public-keys/0/openssh-key', '/openstack/latest/network_data.json'];

    const first = await openMetadataRegistry(root, memoryLogger().log);
    expect(await first.recordSpawn(instance.request, instance.metadata)).toBe('created');
    const firstAnswers = await withServer({ registry: first }, async (server) => {
      const posted = await rawRequest(server.port, { method: 'POST', path: '/openstack/latest/password', headers, body: 'ZW5jcnlwdGVk' });
      expect(posted.status).toBe(200);
      return Promise.all(paths.map(async (path) => (await rawRequest(server.port, { path, headers })).body.toString()));
    });

    const { log, lines } = memoryLogger();
    const second = await openMetadataRegistry(root, log);
    expect(lines.join('\n')).toContain('metadata records loaded {"instances":1');
    expect(await second.recordSpawn(instance.request, served().metadata)).toBe('exists');
    await withServer({ registry: second }, async (server) => {
      expect(await Promise.all(paths.map(async (path) => (await rawRequest(server.port, { path, headers })).body.toString()))).toEqual(firstAnswers);
      expect((await rawRequest(server.port, { path: '/openstack/latest/password', headers })).body.toString()).toBe('ZW5jcnlwdGVk');
      expect((await rawRequest(server.port, { method: 'POST', path: '/openstack/latest/password', headers, body: 'b3RoZXI=' })).status).toBe(409);
    });
    expect(JSON.parse(firstAnswers[0]!)['random_seed']).toBe(Buffer.from(instance.seeds[8]!).toString('base64'));
  });
});
