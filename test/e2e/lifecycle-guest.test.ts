/**
 * LibvirtDriver with a real guest on qemu:///system: one the spawn pipeline boots, whose PID 1 prints the
 * kernel's boot id to the serial console and sleeps. Nothing in it listens for ACPI, so every power button
 * press is ignored: power_off has to fall back to a hard power off, and a soft reboot to a hard one.
 */
import { existsSync, rmSync } from 'node:fs';
import { LibvirtDriver } from '../../src/compute/libvirt-driver.js';
import { POWER_STATE } from '../../src/compute/driver.js';
import { SpawnPipeline } from '../../src/compute/spawn-pipeline.js';
import { openMetadataRegistry, type MetadataRegistry } from '../../src/metadata-api/registry.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { instanceDir } from '../../src/virt/instance-paths.js';
import { ImageCache, LocalDiskPreparer } from '../../src/virt/imagecache/index.js';
import { NotingConnection } from '../compute/noting-connection.js';
import { testOptions } from '../metadata/fixtures.js';
import { memoryLogger } from '../metadata-api/fixtures.js';
import { virtOptions } from '../virt/fixtures.js';
import { guestSpawnRequest, prepareGuestHost } from './guest-host.js';
import { INSTALL_TIMEOUT_MS, SYSTEM_URI } from './libvirtd.js';

const ID = 0x11fe;
const UUID = `11fe0000-0000-4000-8000-${String(ID).padStart(12, '0')}`;
/** What PID 1 prints once the kernel has booted, before the boot's random id. */
const BOOTED = 'lifecycle-guest-up';
const BOOT_ID = new RegExp(`${BOOTED} ([0-9a-f-]{36})`, 'g');

const connection = new NotingConnection(SYSTEM_URI);
const logged = memoryLogger();
let instancesPath: string;
let registry: MetadataRegistry;
let driver: LibvirtDriver;

/** The e2e guest with busybox's shell for /init: it prints its boot id and sleeps, ignoring ACPI. */
function lifecycleRequest(cmdline: string): SpawnRequest {
  // The kernel hands what follows "--" to init, a quoted word as one argument (with no "=" in it).
  const bootId = '$(/bin/busybox cat /proc/sys/kernel/random/boot_id)';
  const init = `rdinit=/bin/busybox -- sh -c "/bin/busybox mount -t proc proc /proc; echo ${BOOTED} ${bootId}; exec /bin/busybox sleep 100000"`;
  return guestSpawnRequest({ id: ID, uuid: UUID }, { os_command_line: `${cmdline} ${init}` });
}

beforeAll(async () => {
  const prepared = await prepareGuestHost();
  instancesPath = prepared.instancesPath;
  registry = await openMetadataRegistry(instancesPath, logged.log);
  driver = new LibvirtDriver({ instancesPath, waitSoftRebootSeconds: 2 }, { connection, records: registry, log: logged.log });
  // A run that died halfway left its guest behind.
  await driver.destroy(UUID);
  const spawner = new SpawnPipeline(
    { virt: virtOptions({ instances_path: instancesPath, virt_type: 'qemu' }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
    { connection, disks: new LocalDiskPreparer(new ImageCache({ instancesPath, apiServers: [] }), { defaultEphemeralFormat: null }), log: logged.log, records: registry },
  );
  await spawner.spawn(lifecycleRequest(prepared.guest.cmdline));
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await driver?.destroy(UUID);
  await connection.close();
  if (instancesPath) rmSync(instancesPath, { recursive: true, force: true });
});

beforeEach(() => (connection.changes.length = 0));

/** The boot id the guest's PID 1 last printed, read as get_console_output reads the console. */
async function lastBootId(): Promise<string | undefined> {
  return [...(await driver.consoleOutput(UUID)).toString('latin1').matchAll(BOOT_ID)].at(-1)?.[1];
}

/** Waits for a boot other than `previous` to print its id, and returns it. */
async function booted(previous?: string): Promise<string> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const bootId = await lastBootId();
    if (bootId !== undefined && bootId !== previous) return bootId;
    if (Date.now() > deadline) throw new Error(`no new boot id on the console after 90 s:\n${(await driver.consoleOutput(UUID)).toString('latin1').slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

let firstBoot: string;

async function domainId(): Promise<number | null> {
  return connection.domainId((await connection.lookupByUuid(UUID))!.name);
}

test('the guest boots; its console output is what it printed', async () => {
  firstBoot = await booted();
  expect(await driver.powerState(UUID)).toBe(POWER_STATE.RUNNING);
}, 120_000);

test('powerOff of a guest that ignores ACPI: the request sent again every retryIntervalS for timeoutS, then a hard power off', async () => {
  const begin = Date.now();
  await driver.powerOff(UUID, { timeoutS: 3, retryIntervalS: 1 });
  const took = Date.now() - begin;
  expect(connection.changes).toEqual(['shutdown', 'shutdown', 'shutdown', 'destroy']);
  expect(took).toBeGreaterThanOrEqual(3000);
  expect(await driver.powerState(UUID)).toBe(POWER_STATE.SHUTDOWN);
  expect(logged.lines.some((line) => line.includes('Instance failed to shutdown in 3 seconds.'))).toBe(true);
  // Powered off, not deleted.
  expect(await driver.listInstanceUuids()).toContain(UUID);
}, 30_000);

test('powerOn: the guest boots again', async () => {
  await driver.powerOn(UUID);
  expect(await driver.powerState(UUID)).toBe(POWER_STATE.RUNNING);
  await booted(firstBoot);
}, 120_000);

test('reboot HARD: powered off and started, a new run of the domain', async () => {
  const before = await domainId();
  await driver.reboot(UUID, 'HARD');
  expect(connection.changes).toEqual(['destroy', 'start']);
  expect(await domainId()).not.toBe(before);
  expect(await driver.powerState(UUID)).toBe(POWER_STATE.RUNNING);
}, 30_000);

test('reboot SOFT of a guest that ignores ACPI: a hard reboot after wait_soft_reboot_seconds', async () => {
  const before = await domainId();
  const begin = Date.now();
  await driver.reboot(UUID, 'SOFT');
  expect(Date.now() - begin).toBeGreaterThanOrEqual(2000);
  expect(connection.changes).toEqual(['shutdown', 'destroy', 'start']);
  expect(await domainId()).not.toBe(before);
  expect(await driver.powerState(UUID)).toBe(POWER_STATE.RUNNING);
}, 30_000);

test('destroy: the running guest, its domain and its directory gone', async () => {
  await driver.destroy(UUID);
  expect(await driver.powerState(UUID)).toBe(POWER_STATE.NOSTATE);
  expect(existsSync(instanceDir(instancesPath, UUID))).toBe(false);
}, 30_000);
