/** The in-memory index and the password's one-time write. */
import { DISCOVERY_INTERVAL_MS, MetadataRegistry } from '../../src/metadata-api/registry.js';
import type { MetadataRecord } from '../../src/metadata-api/record.js';
import { fullRequest } from '../metadata/fixtures.js';
import { served } from './fixtures.js';

const first = served().record;
const second = served(fullRequest({ uuid: '0b0e2f3c-1111-4222-8333-444455556666' })).record;

function recording(): { registry: MetadataRegistry; saved: MetadataRecord[] } {
  const saved: MetadataRecord[] = [];
  return { registry: new MetadataRegistry(async (record) => void saved.push(record)), saved };
}

test('indexes by uuid and by every fixed IP, and forgets', () => {
  const { registry } = recording();
  registry.register(first);
  registry.register(second);
  expect(registry.byInstanceId(first.uuid)).toBe(first);
  expect(registry.byAddress('2001:db8:2::10').map((r) => r.uuid)).toEqual([first.uuid, second.uuid]);
  expect(registry.forget(first.uuid)).toBe(true);
  expect(registry.forget(first.uuid)).toBe(false);
  expect(registry.byInstanceId(first.uuid)).toBeUndefined();
  expect(registry.byAddress('10.0.0.5').map((r) => r.uuid)).toEqual([second.uuid]);
  registry.forget(second.uuid);
  expect(registry.byAddress('10.0.0.5')).toEqual([]);
  expect(registry.size).toBe(0);
});

test('an address many instances share: each forgotten alone, the others kept in order', () => {
  const { registry } = recording();
  const sharing = Array.from({ length: 5 }, (_, i) => ({ ...first, uuid: `0b0e2f3c-1111-4222-8333-44445555666${i}` }));
  for (const record of sharing) registry.register(record);
  registry.forget(sharing[2]!.uuid);
  registry.register({ ...sharing[0]!, fixed_ips: ['192.0.2.9'] });
  expect(registry.byAddress('10.0.0.5').map((r) => r.uuid)).toEqual([1, 3, 4].map((i) => sharing[i]!.uuid));
  expect(registry.byAddress('192.0.2.9').map((r) => r.uuid)).toEqual([sharing[0]!.uuid]);
});

test('registering a uuid again replaces its record and its addresses', () => {
  const { registry } = recording();
  registry.register(first);
  registry.register({ ...first, fixed_ips: ['192.0.2.9'] });
  expect(registry.byAddress('10.0.0.5')).toEqual([]);
  expect(registry.byAddress('192.0.2.9').map((r) => r.uuid)).toEqual([first.uuid]);
  expect(registry.size).toBe(1);
});

test('the first password is stored and persisted; later ones conflict', async () => {
  const { registry, saved } = recording();
  registry.register(first);
  expect(await registry.setPassword(first.uuid, 'one')).toBe('stored');
  expect(await registry.setPassword(first.uuid, 'two')).toBe('conflict');
  expect(registry.byInstanceId(first.uuid)!.password).toBe('one');
  expect(saved.map((record) => record.password)).toEqual(['one']);
  expect(await registry.setPassword('unknown', 'x')).toBe('unknown-instance');
});

test('an empty password does not count as set, as in Nova (extract_password gives None)', async () => {
  const { registry } = recording();
  registry.register(first);
  expect(await registry.setPassword(first.uuid, '')).toBe('stored');
  expect(await registry.setPassword(first.uuid, 'real')).toBe('stored');
});

test('of two concurrent posts exactly one wins', async () => {
  const { registry } = recording();
  registry.register(first);
  const outcomes = await Promise.all([registry.setPassword(first.uuid, 'a'), registry.setPassword(first.uuid, 'b')]);
  expect(outcomes.sort()).toEqual(['conflict', 'stored']);
});

test('a password that cannot be persisted is not kept', async () => {
  const registry = new MetadataRegistry(async () => {
    throw new Error('disk full');
  });
  registry.register(first);
  await expect(registry.setPassword(first.uuid, 'lost')).rejects.toThrow('disk full');
  expect(registry.byInstanceId(first.uuid)!.password).toBeNull();
});

test('recordSpawn saves and registers once; a redelivered spawn keeps the first record', async () => {
  const { registry, saved } = recording();
  const instance = served();
  expect(await registry.recordSpawn(instance.request, instance.metadata)).toBe('created');
  expect(await registry.recordSpawn(instance.request, served().metadata)).toBe('exists');
  expect(saved).toHaveLength(1);
  // What the service serves, and nothing the drive alone holds (admin_pass, injected files).
  const { uuid, ec2, openstack, content } = instance.metadata;
  expect(registry.byInstanceId(instance.record.uuid)!.metadata).toEqual({ uuid, ec2, openstack, content });
  expect(registry.byInstanceId(instance.record.uuid)!.metadata.openstack).toBe(instance.metadata.openstack);
});

test('discover registers the records another process saved, looking at most once per interval, one look for concurrent askers', async () => {
  let clock = 0;
  let looks = 0;
  let onDisk: MetadataRecord[] = [];
  const registry = new MetadataRegistry(
    async () => undefined,
    async () => undefined,
    async (known) => (looks++, onDisk.filter((record) => !known(record.uuid))),
    () => clock,
  );
  registry.register(first);
  onDisk = [first, second];
  expect(await Promise.all([registry.discover(), registry.discover()])).toEqual([true, true]);
  expect(looks).toBe(1);
  expect(registry.byInstanceId(second.uuid)).toBe(second);
  // Within the interval nothing is read, however often strangers ask.
  const third = { ...second, uuid: '0b0e2f3c-1111-4222-8333-777788889999' };
  onDisk = [first, second, third];
  clock += DISCOVERY_INTERVAL_MS - 1;
  expect(await registry.discover()).toBe(false);
  expect(looks).toBe(1);
  clock += 1;
  expect(await registry.discover()).toBe(true);
  expect(registry.byInstanceId(third.uuid)).toBe(third);
  clock += DISCOVERY_INTERVAL_MS;
  expect(await registry.discover()).toBe(false);
  expect(looks).toBe(3);
});
