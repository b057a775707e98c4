/**
 * LibvirtConnection through the real binding on test:///default, libvirt's in-process test hypervisor: the
 * full define/start/destroy/undefine cycle with our own domain XML, and the failures it classifies. The
 * test driver accepts domain type "qemu" and, unlike QEMU, never checks that disk files exist
 * (qemu-system.test.ts covers that on a real libvirtd).
 */
import { randomUUID } from 'node:crypto';
import { declaredIdentity, LibvirtConnection } from '../../src/virt/connection.js';
import { renderDomainXml } from '../../src/virt/domain-xml.js';
import { DomainExists } from '../../src/virt/errors/domain-exists.js';
import { DomainNotFound } from '../../src/virt/errors/domain-not-found.js';
import { InvalidDomainConfig } from '../../src/virt/errors/invalid-domain-config.js';
import { InvalidDomainState } from '../../src/virt/errors/invalid-domain-state.js';
import { LibvirtOperationFailed } from '../../src/virt/errors/libvirt-operation-failed.js';
import { LibvirtUnavailable } from '../../src/virt/errors/libvirt-unavailable.js';
import { planGuest } from '../../src/virt/plan-guest.js';
import { guestRequest, INSTANCES_PATH, spawnRequest } from './fixtures.js';
import { suspendDomain } from './operator.js';
import { parseDomain } from './parse-domain.js';

let connection: LibvirtConnection;
beforeAll(async () => {
  connection = new LibvirtConnection('test:///default');
  await connection.ensureConnected();
});
afterAll(async () => {
  await connection.close();
});

/** A guest of its own for each test: test:///default's domains live as long as the process. */
function guestXml(fields: { id?: number | null; uuid?: string } = {}): { xml: string; name: string; uuid: string } {
  const uuid = fields.uuid ?? randomUUID();
  const { guest } = planGuest(guestRequest({ request: spawnRequest({ uuid, id: fields.id ?? null }) }));
  return { xml: renderDomainXml(guest), name: guest.name, uuid };
}

test('define, start, look up, read back, destroy, undefine', async () => {
  const { xml, name, uuid } = guestXml();
  const defined = await connection.define(xml);
  expect(defined).toEqual({ name, uuid });
  await expect(connection.lookupByUuid(uuid)).resolves.toEqual({ name, uuid, state: 'shutoff' });

  // Through the handle define() got.
  await connection.start(defined);
  await expect(connection.lookupByUuid(uuid)).resolves.toEqual({ name, uuid, state: 'running' });

  const live = await parseDomain(await connection.getXml(name));
  const drive = live.all('devices', 'disk').find((disk) => disk.$!['device'] === 'cdrom');
  expect(drive?.['source']?.[0]?.$).toEqual({ file: `${INSTANCES_PATH}/${uuid}/disk.config` });
  expect(drive?.['target']?.[0]?.$).toMatchObject({ dev: 'hda', bus: 'ide' });
  expect(drive?.['readonly']).toHaveLength(1);
  expect(live.text('metadata', 'nova:instance', 'nova:name')).toBe('Web 01');

  await connection.destroy(name);
  await expect(connection.lookupByUuid(uuid)).resolves.toEqual({ name, uuid, state: 'shutoff' });
  await connection.undefine(name);
  await expect(connection.lookupByUuid(uuid)).resolves.toBeNull();
});

describe('a second domain with the name or the uuid of a running one', () => {
  let first: ReturnType<typeof guestXml>;
  beforeAll(async () => {
    first = guestXml({ id: 0x7e57 });
    await connection.define(first.xml);
    // Not the identity define() returned: looked up by name.
    await connection.start({ name: first.name, uuid: first.uuid });
  });
  afterAll(async () => {
    await connection.destroy(first.name);
    await connection.undefine(first.name);
  });

  test('same name, another uuid: DomainExists, naming the domain in the way', async () => {
    const second = guestXml({ id: 0x7e57 });
    expect(second.name).toBe(first.name);
    const failure = await connection.define(second.xml).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DomainExists);
    expect(failure).toMatchObject({ existingName: first.name, existingUuid: first.uuid, operation: 'domainDefineXML', transient: false });
    expect((failure as Error).message).toBe(
      `libvirt domainDefineXML on domain "${first.name}" (uuid ${second.uuid}) failed: operation failed: domain '${first.name}' already exists with uuid ${first.uuid}`,
    );
  });

  test('same uuid, another name: DomainExists', async () => {
    const second = guestXml({ id: 0x7e58, uuid: first.uuid });
    await expect(connection.define(second.xml)).rejects.toMatchObject({ name: 'DomainExists', existingName: first.name });
  });

  test('same name and uuid: libvirt takes it as a new persistent definition, not an error', async () => {
    await expect(connection.define(first.xml)).resolves.toEqual({ name: first.name, uuid: first.uuid });
    await expect(connection.lookupByUuid(first.uuid)).resolves.toMatchObject({ state: 'running' });
  });

  test('starting it again: libvirt refuses it as already running, which is what a start wants: done', async () => {
    await expect(connection.start(first)).resolves.toBeUndefined();
    // The same through the handle of a fresh definition.
    await expect(connection.start(await connection.define(first.xml))).resolves.toBeUndefined();
    await expect(connection.lookupByUuid(first.uuid)).resolves.toMatchObject({ state: 'running' });
  });
});

test('starting a paused domain: InvalidDomainState, since paused is not the running a start wants', async () => {
  const { xml, name } = guestXml();
  await connection.start(await connection.define(xml));
  await suspendDomain('test:///default', name);
  await expect(connection.start({ name, uuid: '' })).rejects.toThrow(InvalidDomainState);
  await expect(connection.start({ name, uuid: '' })).rejects.toThrow(`libvirt domainCreate on domain "${name}" failed: internal error: Domain '${name}' is already running`);
  await connection.destroy(name);
  await connection.undefine(name);
});

test('the identity define() returns is what libvirt reports, read off the XML only when certain', async () => {
  const { xml, name, uuid } = guestXml();
  expect(declaredIdentity(xml)).toEqual({ name, uuid });
  // libvirt spells a uuid in lower case, whatever the XML says: that XML's identity comes from libvirt.
  const shouting = xml.replace(`<uuid>${uuid}</uuid>`, `<uuid>${uuid.toUpperCase()}</uuid>`);
  expect(declaredIdentity(shouting)).toBeNull();
  await expect(connection.define(shouting)).resolves.toEqual({ name, uuid });
  await connection.undefine(name);
  const other = guestXml();
  for (const [unsure, reported] of [
    [other.xml.replace(`<name>${other.name}</name>`, `<name>${other.name.replace('-', '&#45;')}</name>`), other.name],
    // libvirt keeps the white space: a name of its own.
    [other.xml.replace(`<name>${other.name}</name>`, `<name> ${other.name}</name>`), ` ${other.name}`],
    [other.xml.replace(/<name>.*<\/name>\s*(<uuid>.*<\/uuid>)/, (_, uuidElement: string) => `${uuidElement}<name>${other.name}</name>`), other.name],
  ] as const) {
    expect(declaredIdentity(unsure)).toBeNull();
    await expect(connection.define(unsure)).resolves.toEqual({ name: reported, uuid: other.uuid });
    await connection.undefine(reported);
  }
});

test('destroying a domain that is shut off: libvirt refuses it as not running, which is what a destroy wants: done', async () => {
  const { xml, name, uuid } = guestXml();
  await connection.define(xml);
  await expect(connection.destroy(name)).resolves.toBeUndefined();
  await expect(connection.lookupByUuid(uuid)).resolves.toMatchObject({ state: 'shutoff' });
  await connection.undefine(name);
});

test('shutdown: an ACPI request (test:///default obeys at once); of a shut-off domain, refused as not running: done', async () => {
  const { xml, name, uuid } = guestXml();
  await connection.start(await connection.define(xml));
  const id = await connection.domainId(name);
  expect(id).toEqual(expect.any(Number));
  await connection.shutdown(name);
  await expect(connection.lookupByUuid(uuid)).resolves.toMatchObject({ state: 'shutoff' });
  await expect(connection.domainId(name)).resolves.toBeNull();
  await expect(connection.shutdown(name)).resolves.toBeUndefined();
  // Each run of the domain has an id of its own: how a soft reboot tells that the guest went down.
  await connection.start({ name, uuid });
  await expect(connection.domainId(name)).resolves.not.toBe(id);
  await connection.removeDomain(uuid);
});

test('removeDomain of a paused domain powers it off first: undefined while active, it would stay on, transient', async () => {
  const { xml, name, uuid } = guestXml();
  await connection.start(await connection.define(xml));
  await suspendDomain('test:///default', name);
  await expect(connection.removeDomain(uuid)).resolves.toBe(name);
  await expect(connection.lookupByUuid(uuid)).resolves.toBeNull();
  await expect(connection.listUuids()).resolves.not.toContain(uuid);
});

test('an unknown domain: null from lookupByUuid, DomainNotFound from everything by name', async () => {
  await expect(connection.lookupByUuid(randomUUID())).resolves.toBeNull();
  const unknown = { name: 'instance-ffffffff', uuid: randomUUID() };
  const byName = [(name: string) => connection.start({ ...unknown, name }), connection.shutdown, connection.destroy, connection.undefine, connection.getXml, connection.domainId].map(
    (method: (name: string) => Promise<unknown>) => method.bind(connection),
  );
  for (const call of byName) await expect(call(unknown.name)).rejects.toThrow(DomainNotFound);
  await expect(connection.start(unknown)).rejects.toThrow('libvirt domainLookupByName on domain "instance-ffffffff" failed: Domain not found');
});

test('XML libvirt cannot use: InvalidDomainConfig', async () => {
  await expect(connection.define('<domain')).rejects.toThrow('libvirt domainDefineXML on domain XML without a <name> failed: (domain_definition)');
  const { xml } = guestXml();
  await expect(connection.define(xml.replace('bus="ide"', 'bus="nope"'))).rejects.toThrow(
    "XML error: Invalid value for attribute 'bus' in element 'target': 'nope'.",
  );
  await expect(connection.define(xml.replace('<domain type="qemu">', '<domain type="bogus">'))).rejects.toThrow(InvalidDomainConfig);
});

test('close(), then the next call opens a new connection', async () => {
  const other = new LibvirtConnection('test:///default');
  await other.ensureConnected();
  await other.close();
  await expect(other.lookupByUuid(randomUUID())).resolves.toBeNull();
  await other.close();
});

test('close() while calls are running: they finish on the connection, which closes after them', async () => {
  const other = new LibvirtConnection('test:///default');
  await other.ensureConnected();
  const { xml, name, uuid } = guestXml();
  const calls = Promise.all([other.define(xml), other.lookupByUuid(randomUUID())]);
  await other.close();
  await expect(calls).resolves.toEqual([{ name, uuid }, null]);
  await other.undefine(name);
  await other.close();
});

test('a URI no driver serves, a socket that is not there', async () => {
  await expect(new LibvirtConnection('bogus:///x').ensureConnected()).rejects.toThrow(LibvirtOperationFailed);
  const missing = new LibvirtConnection('test+unix:///default?socket=/nonexistent/libvirt-sock');
  const failure = await missing.ensureConnected().catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(LibvirtUnavailable);
  expect(failure).toMatchObject({ transient: true, operation: 'connectOpen', target: 'test+unix:///default?socket=/nonexistent/libvirt-sock' });
});
