/**
 * Reconnecting for real: a libvirtd killed and restarted under a live LibvirtConnection (private-libvirtd.ts).
 * Lookups ride over a restart on their one retry; define/start/destroy/undefine report LibvirtUnavailable
 * and leave repeating to the caller; the next call finds a new connection.
 */
import { randomUUID } from 'node:crypto';
import { LibvirtConnection } from '../../src/virt/connection.js';
import { renderDomainXml } from '../../src/virt/domain-xml.js';
import { LibvirtUnavailable } from '../../src/virt/errors/libvirt-unavailable.js';
import { planGuest } from '../../src/virt/plan-guest.js';
import { guestRequest, spawnRequest } from './fixtures.js';
import { PrivateLibvirtd } from './private-libvirtd.js';
import { ensureLibvirtd, INSTALL_TIMEOUT_MS } from '../e2e/libvirtd.js';

let daemon: PrivateLibvirtd;
let connection: LibvirtConnection;

beforeAll(async () => {
  await ensureLibvirtd();
  daemon = await PrivateLibvirtd.create();
  await daemon.start();
  connection = new LibvirtConnection(daemon.uri);
}, INSTALL_TIMEOUT_MS);
afterAll(async () => {
  await connection?.close();
  await daemon?.remove();
});

function guest(): { xml: string; name: string; uuid: string } {
  const uuid = randomUUID();
  const { guest } = planGuest(guestRequest({ request: spawnRequest({ uuid, id: null }) }));
  return { xml: renderDomainXml(guest), name: guest.name, uuid };
}

test('a lookup rides over a daemon restart on its one retry', async () => {
  const before = guest();
  await connection.define(before.xml);
  await expect(connection.lookupByUuid(before.uuid)).resolves.toMatchObject({ state: 'shutoff' });

  await daemon.kill();
  await daemon.start();
  // The old connection is dead ("Cannot write data: Broken pipe"); the retry runs on a new one, where the
  // restarted daemon's test driver has never heard of the domain.
  await expect(connection.lookupByUuid(before.uuid)).resolves.toBeNull();
  await expect(connection.getXml(before.name)).rejects.toMatchObject({ name: 'DomainNotFound' });
});

test('define is not retried: LibvirtUnavailable, then the next call reconnects', async () => {
  await connection.ensureConnected();
  await daemon.kill('SIGTERM');
  await daemon.start();
  const { xml, name, uuid } = guest();
  const failure = await connection.define(xml).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(LibvirtUnavailable);
  expect(failure).toMatchObject({ operation: 'domainDefineXML', transient: true, libvirtMessage: expect.stringMatching(/Broken pipe|client socket is closed|End of file/) });

  const domain = await connection.define(xml);
  expect(domain).toEqual({ name, uuid });
  await connection.start(domain);
  await expect(connection.lookupByUuid(uuid)).resolves.toMatchObject({ state: 'running' });
});

test('while the daemon is down every call fails with LibvirtUnavailable, and ensureConnected tells when it is back', async () => {
  await daemon.kill();
  const uuid = randomUUID();
  await expect(connection.lookupByUuid(uuid)).rejects.toMatchObject({ name: 'LibvirtUnavailable', operation: 'connectOpen' });
  await expect(connection.start({ name: 'instance-anything', uuid })).rejects.toThrow(LibvirtUnavailable);
  await expect(connection.ensureConnected()).rejects.toThrow(/Failed to connect socket to '.*libvirt-sock'/);

  await daemon.start();
  await expect(connection.ensureConnected()).resolves.toBeUndefined();
  await expect(connection.lookupByUuid(uuid)).resolves.toBeNull();
});

test('concurrent lookups over a restart share one new connection and all succeed', async () => {
  await connection.ensureConnected();
  await daemon.kill();
  await daemon.start();
  const results = await Promise.all(Array.from({ length: 8 }, () => connection.lookupByUuid(randomUUID())));
  expect(results).toEqual(Array(8).fill(null));
});
