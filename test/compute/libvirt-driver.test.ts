/**
 * LibvirtDriver on test:///default, libvirt's in-process hypervisor, with instances the spawn pipeline made
 * (domain, disks, drive, libvirt.xml, metadata record). test:///default's guests obey an ACPI shutdown at
 * once and write no console; a guest that ignores ACPI and a real console log are on qemu:///system
 * (test/e2e/lifecycle-guest.test.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { POWER_STATE } from '../../src/compute/driver.js';
import { LibvirtDriver, MAX_CONSOLE_BYTES, powerStateOf, type LibvirtDriverDeps } from '../../src/compute/libvirt-driver.js';
import { OperationFailed } from '../../src/compute/operation-failed.js';
import { SpawnPipeline } from '../../src/compute/spawn-pipeline.js';
import type { Logger } from '../../src/log.js';
import { MetadataRegistry, openMetadataRegistry } from '../../src/metadata-api/registry.js';
import { loadInstanceMetadata, RECORD_FILE } from '../../src/metadata-api/store.js';
import { LibvirtConnection } from '../../src/virt/connection.js';
import { DOMAIN_STATES } from '../../src/virt/domain-state.js';
import { consoleLogPath, instanceDir } from '../../src/virt/instance-paths.js';
import { ImageCache, LocalDiskPreparer } from '../../src/virt/imagecache/index.js';
import { fullRequest, testOptions } from '../metadata/fixtures.js';
import { runPython } from '../metadata/python.js';
import { memoryLogger, proxyHeaders, rawRequest, withServer } from '../metadata-api/fixtures.js';
import { virtOptions } from '../virt/fixtures.js';
import { suspendDomain } from '../virt/operator.js';
import { NotingConnection } from './noting-connection.js';
import { seedImage } from './seed-image.js';

const connection = new NotingConnection('test:///default');
/** For the spawns and registries the tests set up: what they log is not under test. */
const quiet = memoryLogger().log;
afterAll(() => connection.close());

const WAIT_SOFT_REBOOT_SECONDS = 3;
let instancesPath: string;
let registry: MetadataRegistry;
let logged: { log: Logger; lines: string[] };
/** The waits the driver asked for, in ms: it never really waits here. */
let slept: number[];
let driver: LibvirtDriver;

function driverWith(deps: Partial<LibvirtDriverDeps> = {}): LibvirtDriver {
  return new LibvirtDriver(
    { instancesPath, waitSoftRebootSeconds: WAIT_SOFT_REBOOT_SECONDS },
    { connection, records: registry, log: logged.log, sleep: async (ms) => void slept.push(ms), ...deps },
  );
}

beforeEach(async () => {
  instancesPath = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-driver-'));
  seedImage(instancesPath, fullRequest().image.id!);
  registry = await openMetadataRegistry(instancesPath, quiet);
  logged = memoryLogger();
  slept = [];
  connection.changes.length = 0;
  driver = driverWith();
});
afterEach(() => rmSync(instancesPath, { recursive: true, force: true }));

/** A uuid libvirt has no domain of. */
const NO_SUCH_INSTANCE = 'd21e0000-0000-4000-8000-ffffffffffff';
let nextId = 0x5d00;
/** A running instance of its own (test:///default keeps every domain for the life of the process). */
async function spawn(): Promise<{ uuid: string; name: string; projectId: string }> {
  const id = nextId++;
  const request = fullRequest({ id, uuid: `d21e0000-0000-4000-8000-${String(id).padStart(12, '0')}` });
  const pipeline = new SpawnPipeline(
    { virt: virtOptions({ instances_path: instancesPath }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
    { connection, disks: new LocalDiskPreparer(new ImageCache({ instancesPath, apiServers: [] }), { defaultEphemeralFormat: null }), log: quiet, records: registry },
  );
  const { uuid, domain } = await pipeline.spawn(request);
  connection.changes.length = 0;
  return { uuid, name: domain, projectId: request.instance.project_id };
}

const suspend = (name: string) => suspendDomain('test:///default', name);
const state = async (uuid: string) => (await connection.lookupByUuid(uuid))?.state;

/** What the metadata service answers for the instance, through Neutron's proxy. */
async function metadataStatus(uuid: string, projectId: string): Promise<number> {
  const path = '/openstack/latest/meta_data.json';
  return withServer({ registry }, async (server) => (await rawRequest(server.port, { path, headers: proxyHeaders(uuid, projectId) })).status);
}

describe('destroy', () => {
  test('undefines the domain, deletes the instance directory, and the metadata service forgets the instance', async () => {
    const { uuid, projectId } = await spawn();
    expect(await metadataStatus(uuid, projectId)).toBe(200);
    await driver.destroy(uuid);
    expect(await connection.lookupByUuid(uuid)).toBeNull();
    expect(existsSync(instanceDir(instancesPath, uuid))).toBe(false);
    expect(await metadataStatus(uuid, projectId)).toBe(404);
    // A restarted daemon finds no record of it either.
    expect((await openMetadataRegistry(instancesPath, quiet)).byInstanceId(uuid)).toBeUndefined();
    await expect(driver.destroy(uuid)).resolves.toBeUndefined();
  });

  test.each<[string, (domain: { name: string; uuid: string }) => Promise<unknown>]>([
    ['powered off, still defined', ({ name }) => connection.destroy(name)],
    ['undefined, directory still there', ({ uuid }) => connection.removeDomain(uuid)],
  ])('after a crash that left the domain %s, a second destroy finishes the job', async (_, crash) => {
    const spawned = await spawn();
    const { uuid, projectId } = spawned;
    await crash(spawned);
    await driver.destroy(uuid);
    expect(await connection.lookupByUuid(uuid)).toBeNull();
    expect(existsSync(instanceDir(instancesPath, uuid))).toBe(false);
    expect(await metadataStatus(uuid, projectId)).toBe(404);
  });

  test('an instance this host never had: nothing to do', async () => {
    await expect(driver.destroy(NO_SUCH_INSTANCE)).resolves.toBeUndefined();
  });

  test('a paused domain is powered off before it is undefined (undefining it would leave it running, transient)', async () => {
    const { uuid, name } = await spawn();
    await suspend(name);
    await driver.destroy(uuid);
    expect(await connection.lookupByUuid(uuid)).toBeNull();
  });

  test('a discovery that read the record before the destroy removed it does not bring the instance back', async () => {
    const { uuid } = await spawn();
    const record = join(instanceDir(instancesPath, uuid), RECORD_FILE);
    // The daemon's registry, to which the instance is new (as one `nova-spawnd spawn` made): its discovery
    // reads the record, then is held until the destroy forgets the instance.
    let read!: () => void;
    const recordRead = new Promise<void>((resolve) => (read = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const daemon = new MetadataRegistry(async () => undefined, undefined, async (known) => {
      const records = await loadInstanceMetadata(instancesPath, quiet, known);
      read();
      await released;
      return records;
    });
    const discovery = daemon.discover();
    await recordRead;
    let recordGoneWhenForgotten: boolean | undefined;
    const forgetting = {
      forgetDeleted: (forgotten: string) => {
        recordGoneWhenForgotten = !existsSync(record);
        const forgot = daemon.forgetDeleted(forgotten);
        release();
        return forgot;
      },
    };
    await Promise.all([discovery, driverWith({ records: forgetting }).destroy(uuid)]);
    expect(recordGoneWhenForgotten).toBe(true);
    expect(daemon.byInstanceId(uuid)?.uuid).toBeUndefined();
  });
});

describe('powerOff', () => {
  test('an ACPI shutdown the guest obeys: shut off, still defined, no hard power off', async () => {
    const { uuid } = await spawn();
    await driver.powerOff(uuid, { timeoutS: 60, retryIntervalS: 10 });
    expect(await state(uuid)).toBe('shutoff');
    expect(connection.changes).toEqual(['shutdown']);
    expect(slept).toEqual([]);
    expect(logged.lines.some((line) => line.includes('Instance shutdown successfully after 0 seconds.'))).toBe(true);
  });

  test('timeoutS 0: powered off at once, no ACPI', async () => {
    const { uuid } = await spawn();
    await driver.powerOff(uuid, { timeoutS: 0, retryIntervalS: 10 });
    expect(await state(uuid)).toBe('shutoff');
    expect(connection.changes).toEqual(['destroy']);
  });

  test('shut off already, or no domain at all: nothing to do', async () => {
    const { uuid } = await spawn();
    await driver.powerOff(uuid, { timeoutS: 0, retryIntervalS: 10 });
    connection.changes.length = 0;
    await driver.powerOff(uuid, { timeoutS: 60, retryIntervalS: 10 });
    await driver.powerOff(uuid, { timeoutS: 0, retryIntervalS: 10 });
    expect(connection.changes).toEqual([]);
    expect(await state(uuid)).toBe('shutoff');
    await expect(driver.powerOff(NO_SUCH_INSTANCE, { timeoutS: 60, retryIntervalS: 10 })).resolves.toBeUndefined();
  });
});

describe('powerOn', () => {
  test('starts a shut-off domain; a running one keeps running, untouched', async () => {
    const { uuid, name } = await spawn();
    await driver.powerOff(uuid, { timeoutS: 0, retryIntervalS: 10 });
    await driver.powerOn(uuid);
    expect(await state(uuid)).toBe('running');
    const id = await connection.domainId(name);
    connection.changes.length = 0;
    await driver.powerOn(uuid);
    expect(connection.changes).toEqual([]);
    expect(await connection.domainId(name)).toBe(id);
  });

  test('a paused domain is powered off and started, as the hard reboot of Nova\'s power_on does', async () => {
    const { uuid, name } = await spawn();
    await suspend(name);
    await driver.powerOn(uuid);
    expect(await state(uuid)).toBe('running');
    expect(connection.changes).toEqual(['destroy', 'start']);
  });

  test('no domain: a final OperationFailed', async () => {
    const uuid = NO_SUCH_INSTANCE;
    const failure = driver.powerOn(uuid);
    await expect(failure).rejects.toThrow(OperationFailed);
    await expect(failure).rejects.toMatchObject({ uuid, step: 'libvirt', transient: false });
    await expect(failure).rejects.toThrow(`power_on of instance ${uuid} failed at libvirt: InstanceNotFound: libvirt has no domain of instance ${uuid}`);
  });
});

describe('reboot', () => {
  test('SOFT, the guest obeying ACPI: shut down and started again, with a new domain id', async () => {
    const { uuid, name } = await spawn();
    const id = await connection.domainId(name);
    await driver.reboot(uuid, 'SOFT');
    expect(connection.changes).toEqual(['shutdown', 'start']);
    expect(await state(uuid)).toBe('running');
    expect(await connection.domainId(name)).not.toBe(id);
    expect(logged.lines.some((line) => line.includes('Instance soft rebooted successfully.'))).toBe(true);
  });

  test('SOFT of a guest not running: waits wait_soft_reboot_seconds for a new id, as Nova does, then reboots hard', async () => {
    const { uuid, name } = await spawn();
    await suspend(name);
    await driver.reboot(uuid, 'SOFT');
    expect(slept).toEqual(Array(WAIT_SOFT_REBOOT_SECONDS).fill(1000));
    expect(connection.changes).toEqual(['destroy', 'start']);
    expect(await state(uuid)).toBe('running');
    expect(logged.lines.some((line) => line.startsWith('WARNING') && line.includes('Failed to soft reboot instance. Trying hard reboot.'))).toBe(true);
  });

  test('HARD: powered off and started, with a new domain id; of a shut-off domain, started', async () => {
    const { uuid, name } = await spawn();
    const id = await connection.domainId(name);
    await driver.reboot(uuid, 'HARD');
    expect(connection.changes).toEqual(['destroy', 'start']);
    expect(await connection.domainId(name)).not.toBe(id);
    await driver.powerOff(uuid, { timeoutS: 0, retryIntervalS: 10 });
    await driver.reboot(uuid, 'HARD');
    expect(await state(uuid)).toBe('running');
  });

  test.each(['SOFT', 'HARD'] as const)('%s with no domain: a final OperationFailed', async (type) => {
    await expect(driver.reboot(NO_SUCH_INSTANCE, type)).rejects.toMatchObject({
      name: 'OperationFailed',
      transient: false,
      message: expect.stringMatching(/^reboot of instance .* InstanceNotFound/),
    });
    expect(slept).toEqual([]);
  });
});

test('each power operation logs the state libvirt then gives the domain, and the id of its run', async () => {
  const { uuid, name } = await spawn();
  const after = (operation: string) =>
    logged.lines
      .filter((line) => line.startsWith(`INFO test after ${operation} the domain is `))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>);
  await driver.powerOff(uuid, { timeoutS: 0, retryIntervalS: 10 });
  expect(after('power_off')).toEqual([{ instance: uuid, domain: name, state: 'shutoff', domain_id: 'none' }]);
  await driver.powerOn(uuid);
  const started = await connection.domainId(name);
  expect(after('power_on')).toEqual([{ instance: uuid, domain: name, state: 'running', domain_id: started }]);
  await driver.reboot(uuid, 'SOFT');
  const soft = await connection.domainId(name);
  expect(soft).not.toBe(started);
  expect(after('soft reboot')).toEqual([{ instance: uuid, domain: name, state: 'running', domain_id: soft }]);
  await driver.reboot(uuid, 'HARD');
  expect(after('hard reboot')).toEqual([{ instance: uuid, domain: name, state: 'running', domain_id: await connection.domainId(name) }]);
  await driver.powerOff(NO_SUCH_INSTANCE, { timeoutS: 0, retryIntervalS: 10 });
  expect(after('power_off').at(-1)).toEqual({ instance: NO_SUCH_INSTANCE, state: 'gone', domain_id: 'none' });
});

describe('consoleOutput', () => {
  const uuid = 'd21e0000-0000-4000-8000-00000000c001';
  /** Bytes that differ from one offset to the next, so a wrong slice cannot pass for the right one. */
  const pattern = (length: number, seed = 0) => Buffer.from(Array.from({ length }, (_, i) => (i * 7 + seed) % 251));
  function writeLog(suffix: string, bytes: Buffer): void {
    mkdirSync(instanceDir(instancesPath, uuid), { recursive: true });
    writeFileSync(consoleLogPath(instancesPath, uuid) + suffix, bytes);
  }

  test('no console log (test:///default writes none): empty', async () => {
    expect(await driver.consoleOutput(uuid)).toEqual(Buffer.alloc(0));
  });

  test('a log of up to 100 KiB whole; of more, its last 100 KiB', async () => {
    writeLog('', pattern(1000));
    expect(await driver.consoleOutput(uuid)).toEqual(pattern(1000));
    const large = pattern(MAX_CONSOLE_BYTES + 12_345);
    writeLog('', large);
    const output = await driver.consoleOutput(uuid);
    expect(output).toHaveLength(MAX_CONSOLE_BYTES);
    // Buffer.equals: Jest's deep equality takes most of a second over 100 KiB.
    expect(output.equals(large.subarray(12_345))).toBe(true);
  });

  test('a log virtlogd rotated: continued from console.log.0, then .1, up to 100 KiB in all', async () => {
    const current = pattern(30 * 1024, 1);
    const previous = pattern(50 * 1024, 2);
    const older = pattern(50 * 1024, 3);
    writeLog('', current);
    writeLog('.0', previous);
    writeLog('.1', older);
    writeLog('.2', pattern(10, 4));
    const output = await driver.consoleOutput(uuid);
    expect(output).toHaveLength(MAX_CONSOLE_BYTES);
    expect(output.equals(Buffer.concat([older.subarray(30 * 1024), previous, current]))).toBe(true);
  });
});

describe('powerState', () => {
  test("libvirt's states map to power states as Nova's LIBVIRT_POWER_STATE maps them", async () => {
    const script = 'import json\nfrom nova.virt.libvirt import guest\nprint(json.dumps(guest.LIBVIRT_POWER_STATE))';
    const nova = JSON.parse(await runPython(['-c', script], null)) as Record<string, number>;
    expect(Object.fromEntries(DOMAIN_STATES.map((libvirtState, number) => [String(number), powerStateOf(libvirtState)]))).toEqual(nova);
  });

  test('of real domains: running, paused, shut off; NOSTATE when there is none', async () => {
    const running = await spawn();
    const paused = await spawn();
    await suspend(paused.name);
    const stopped = await spawn();
    await driver.powerOff(stopped.uuid, { timeoutS: 0, retryIntervalS: 10 });
    expect(await Promise.all([running, paused, stopped].map(({ uuid }) => driver.powerState(uuid)))).toEqual([POWER_STATE.RUNNING, POWER_STATE.PAUSED, POWER_STATE.SHUTDOWN]);
    expect(await driver.powerState(NO_SUCH_INSTANCE)).toBe(POWER_STATE.NOSTATE);
  });
});

test('listInstanceUuids: every domain libvirt has, running or only defined, and no destroyed one', async () => {
  const running = await spawn();
  const stopped = await spawn();
  await driver.powerOff(stopped.uuid, { timeoutS: 0, retryIntervalS: 10 });
  const destroyed = await spawn();
  await driver.destroy(destroyed.uuid);
  const uuids = await driver.listInstanceUuids();
  expect(uuids).toEqual(expect.arrayContaining([running.uuid, stopped.uuid]));
  expect(uuids).not.toContain(destroyed.uuid);
  expect([...uuids].sort()).toEqual((await connection.listDomains()).map((domain) => domain.uuid).sort());
});

test('libvirt unreachable: a transient OperationFailed', async () => {
  const unreachable = new LibvirtConnection('qemu+unix:///system?socket=/nonexistent/libvirt-sock');
  const offline = driverWith({ connection: unreachable });
  await expect(offline.destroy(NO_SUCH_INSTANCE)).rejects.toMatchObject({
    name: 'OperationFailed',
    step: 'libvirt',
    transient: true,
    message: expect.stringMatching(/^destroy of instance .* LibvirtUnavailable/),
  });
  await expect(offline.listInstanceUuids()).rejects.toMatchObject({
    transient: true,
    message: expect.stringMatching(/^list_instance_uuids of instance \* failed at libvirt: LibvirtUnavailable/),
  });
});

test('waitSoftRebootSeconds must be whole seconds', () => {
  expect(() => new LibvirtDriver({ instancesPath: '/x', waitSoftRebootSeconds: 1.5 }, { connection, records: registry, log: logged.log })).toThrow(
    'waitSoftRebootSeconds = 1.5: not a whole number of seconds',
  );
});
