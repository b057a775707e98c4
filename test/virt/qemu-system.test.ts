/**
 * Our domains on a real libvirtd with QEMU (qemu:///system, TCG): libvirt's QEMU driver accepts and starts
 * them (pc with an IDE cdrom, q35 with a SATA cdrom, a VFAT drive on virtio), the running domain has the
 * config drive where we put it, and the failures only a real hypervisor produces are classified.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Hypervisor, type Domain } from '@unraid/libvirt';
import { LibvirtConnection } from '../../src/virt/connection.js';
import { renderDomainXml } from '../../src/virt/domain-xml.js';
import { InvalidDomainConfig } from '../../src/virt/errors/invalid-domain-config.js';
import { StorageMissing } from '../../src/virt/errors/storage-missing.js';
import type { ConfigDriveFormat } from '../../src/virt/blockinfo.js';
import { planGuest } from '../../src/virt/plan-guest.js';
import { guestRequest, spawnRequest, virtOptions } from './fixtures.js';
import { parseDomain } from './parse-domain.js';
import { ensureLibvirtd, INSTALL_TIMEOUT_MS, SYSTEM_URI } from '../e2e/libvirtd.js';

/** The first domain start probes QEMU's capabilities (~5 s); TCG guests are slow to start on 2 cores. */
const SLOW = 120_000;

let instancesPath: string;
let connection: LibvirtConnection;
const defined: string[] = [];

beforeAll(async () => {
  await ensureLibvirtd();
  // QEMU runs as libvirt-qemu: it must be able to walk to the instance directories.
  instancesPath = await mkdtemp(join(tmpdir(), 'qemu-system-instances-'));
  await chmod(instancesPath, 0o755);
  connection = new LibvirtConnection('qemu:///system');
}, INSTALL_TIMEOUT_MS);
afterEach(async () => {
  for (const name of defined.splice(0)) {
    await connection.destroy(name).catch(() => undefined);
    await connection.undefine(name).catch(() => undefined);
  }
});
afterAll(async () => {
  await connection?.close();
  await rm(instancesPath, { recursive: true, force: true });
});

interface Files {
  disk: boolean;
  configDrive: boolean;
}

/** A guest (128 MiB, no NICs) in its own instance directory, with the files that `files` asks for. */
async function prepare(properties: Record<string, string>, configDrive: ConfigDriveFormat, files: Files = { disk: true, configDrive: true }) {
  const uuid = randomUUID();
  const dir = join(instancesPath, uuid);
  await mkdir(dir, { mode: 0o755 });
  if (files.disk) await promisify(execFile)('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk'), '64M']);
  if (files.configDrive) await writeFile(join(dir, 'disk.config'), Buffer.alloc(2 * 1024 * 1024));
  const flavor = { ...spawnRequest().instance.flavor, memory_mb: 128, vcpus: 1 };
  const { guest } = planGuest(
    guestRequest({
      request: spawnRequest({ uuid, id: null, flavor }, properties),
      options: virtOptions({ virt_type: 'qemu', instances_path: instancesPath }),
      images: { disk: { path: join(dir, 'disk'), format: 'qcow2' } },
      configDrive,
    }),
  );
  defined.push(guest.name);
  return { xml: renderDomainXml(guest), name: guest.name, uuid, dir };
}

test.each([
  ['pc, iso9660 on IDE', {}, 'iso9660', 'cdrom', { dev: 'hda', bus: 'ide' }],
  ['q35, iso9660 on SATA', { hw_machine_type: 'q35' }, 'iso9660', 'cdrom', { dev: 'sda', bus: 'sata' }],
  ['pc, vfat on virtio', {}, 'vfat', 'disk', { dev: 'vdb', bus: 'virtio' }],
] as const)('%s: defined, started, running with the drive attached', async (_label, properties, format, device, target) => {
  const { xml, name, uuid, dir } = await prepare(properties, format);
  const domain = await connection.define(xml);
  expect(domain).toEqual({ name, uuid });
  await connection.start(domain);
  await expect(connection.lookupByUuid(uuid)).resolves.toEqual({ name, uuid, state: 'running' });

  const live = await parseDomain(await connection.getXml(name));
  const drive = live.all('devices', 'disk').find((disk) => disk['source']?.[0]?.$?.['file'] === join(dir, 'disk.config'));
  expect(drive?.$).toMatchObject({ type: 'file', device });
  expect(drive?.['target']?.[0]?.$).toMatchObject(target);
  expect(live.attrs('devices', 'serial', 'source')).toMatchObject({ path: join(dir, 'console.log') });

  await connection.destroy(name);
  await expect(connection.lookupByUuid(uuid)).resolves.toMatchObject({ state: 'shutoff' });
  await connection.undefine(name);
  await expect(connection.lookupByUuid(uuid)).resolves.toBeNull();
}, SLOW);

/**
 * Two connections of the binding (two daemons) look the domain up and call `change` on it at once: the
 * messages of the calls libvirt refused.
 */
async function refusedOfTwo(name: string, change: (hypervisor: Hypervisor, domain: Domain) => Promise<void>): Promise<string[]> {
  const hypervisors = [new Hypervisor({ uri: SYSTEM_URI }), new Hypervisor({ uri: SYSTEM_URI })];
  await Promise.all(hypervisors.map((hypervisor) => hypervisor.connectOpen()));
  try {
    // Kept in this frame until the calls are done: the binding frees a collected handle under a call on it (connection.ts).
    const domains = await Promise.all(hypervisors.map((hypervisor) => hypervisor.domainLookupByName(name)));
    const settled = await Promise.allSettled(hypervisors.map((hypervisor, i) => change(hypervisor, domains[i]!)));
    return settled.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).message] : []));
  } finally {
    await Promise.all(hypervisors.map((hypervisor) => hypervisor.connectClose()));
  }
}

test('two starts, then two destroys, of one domain at once: libvirt refuses one of each, LibvirtConnection takes both as done', async () => {
  // What a daemon killed while libvirt starts its guest leaves to the redelivered spawn (resilience.test.ts).
  const { xml, name, uuid } = await prepare({}, 'iso9660');
  await connection.define(xml);
  expect(await refusedOfTwo(name, (hypervisor, domain) => hypervisor.domainCreate(domain))).toEqual(['Requested operation is not valid: domain is already running']);
  expect(await refusedOfTwo(name, (hypervisor, domain) => hypervisor.domainDestroy(domain))).toEqual(['Requested operation is not valid: domain is not running']);

  // The same through two LibvirtConnections, each looking the domain up by name first.
  const other = new LibvirtConnection(SYSTEM_URI);
  try {
    await expect(Promise.all([connection.start({ name, uuid }), other.start({ name, uuid })])).resolves.toEqual([undefined, undefined]);
    await expect(connection.lookupByUuid(uuid)).resolves.toMatchObject({ state: 'running' });
    await expect(Promise.all([connection.destroy(name), other.destroy(name)])).resolves.toEqual([undefined, undefined]);
    await expect(connection.lookupByUuid(uuid)).resolves.toMatchObject({ state: 'shutoff' });
  } finally {
    await other.close();
  }
}, SLOW);

test('a config drive that was never written: StorageMissing at start, naming the file', async () => {
  const { xml, dir } = await prepare({}, 'iso9660', { disk: true, configDrive: false });
  const failure = await connection.start(await connection.define(xml)).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(StorageMissing);
  expect(failure).toMatchObject({ path: join(dir, 'disk.config'), operation: 'domainCreate' });
}, SLOW);

test('an IDE cdrom on q35 (hw_cdrom_bus=ide): InvalidDomainConfig at define', async () => {
  const { xml } = await prepare({ hw_machine_type: 'q35', hw_cdrom_bus: 'ide' }, 'iso9660');
  await expect(connection.define(xml)).rejects.toThrow(InvalidDomainConfig);
  await expect(connection.define(xml)).rejects.toThrow(/IDE controllers are unsupported/);
}, SLOW);
