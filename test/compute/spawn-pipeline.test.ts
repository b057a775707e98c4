import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { OperationFailed } from '../../src/compute/operation-failed.js';
import { SpawnPipeline, type SpawnPipelineOptions, type SpawnRecords } from '../../src/compute/spawn-pipeline.js';
import { readDrive } from '../../src/configdrive/read-drive.js';
import { getLogger } from '../../src/log.js';
import { openMetadataRegistry, type MetadataRegistry } from '../../src/metadata-api/registry.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { LibvirtConnection, type DomainIdentity } from '../../src/virt/connection.js';
import { DHCP_VIF, fullRequest, STATIC_VIF, testOptions } from '../metadata/fixtures.js';
import { InstanceEvents } from '../../src/compute/instance-events.js';
import { eventually } from '../bus/helpers/rabbit.js';
import type { HostBridges } from '../../src/virt/vif-plug.js';
import { virtOptions } from '../virt/fixtures.js';
import { ImageCache, LocalDiskPreparer } from '../../src/virt/imagecache/index.js';
import { seedImage } from './seed-image.js';
import { syncedPaths, traceSyscalls } from './syscall-trace.js';

let instancesPath: string;
const connection = new LibvirtConnection('test:///default');
afterAll(() => connection.close());
let disks: LocalDiskPreparer;
/** The metadata service's records under instancesPath, as the daemon keeps them. */
let registry: MetadataRegistry;
beforeEach(async () => {
  instancesPath = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-instances-'));
  seedImage(instancesPath, fullRequest().image.id!);
  disks = new LocalDiskPreparer(new ImageCache({ instancesPath, apiServers: [] }), { defaultEphemeralFormat: null });
  registry = await openMetadataRegistry(instancesPath, getLogger('test'));
});
afterEach(() => rmSync(instancesPath, { recursive: true, force: true }));

let nextId = 1000;
/** A fresh instance each time: test:///default keeps every domain for the life of this process. */
function request(overrides: Parameters<typeof fullRequest>[0] = {}): SpawnRequest {
  const id = nextId++;
  return fullRequest({ id, uuid: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, ...overrides });
}

function pipeline(overrides: Partial<SpawnPipelineOptions['drive']> = {}, records: SpawnRecords = registry) {
  return new SpawnPipeline(
    { virt: virtOptions({ instances_path: instancesPath }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null, ...overrides } },
    { connection, disks, log: getLogger('test'), records },
  );
}

/** The registry, noting the uuid of every instance a spawn records. */
function noting(seen: string[]): SpawnRecords {
  return { recordSpawn: (req, metadata) => (seen.push(req.instance.uuid), registry.recordSpawn(req, metadata)) };
}

test('a spawn defines and starts the domain, writes libvirt.xml and a config drive cloud-init would find', async () => {
  const spawned = request();
  const seen: string[] = [];
  const result = await pipeline({}, noting(seen)).spawn(spawned);
  expect(result).toEqual({ uuid: spawned.instance.uuid, domain: `instance-${spawned.instance.id!.toString(16).padStart(8, '0')}`, outcome: 'spawned', drive: 'created' });
  expect((await connection.lookupByUuid(spawned.instance.uuid))?.state).toBe('running');

  const directory = join(instancesPath, spawned.instance.uuid);
  const xml = readFileSync(join(directory, 'libvirt.xml'), 'utf8');
  expect(xml).toContain(`<source file="${join(directory, 'disk.config')}"/>`);
  // libvirt's own view of the defined domain has the drive where the file says.
  expect(await connection.getXml(result.domain)).toContain(`<source file='${join(directory, 'disk.config')}'/>`);
  const drive = readDrive(readFileSync(join(directory, 'disk.config')));
  expect(drive.label).toBe('config-2');
  expect(JSON.parse(Buffer.from(drive.tree.get('openstack/latest/meta_data.json')!).toString())).toMatchObject({ uuid: spawned.instance.uuid });
  expect(seen).toEqual([spawned.instance.uuid]);
});

test('spawning a running instance again changes nothing', async () => {
  const spawner = pipeline();
  const spawned = request();
  expect((await spawner.spawn(spawned)).outcome).toBe('spawned');
  const drive = readFileSync(join(instancesPath, spawned.instance.uuid, 'disk.config'));
  const again = await spawner.spawn(spawned);
  expect(again.outcome).toBe('already-running');
  expect(readFileSync(join(instancesPath, spawned.instance.uuid, 'disk.config')).equals(drive)).toBe(true);
});

test('a domain left defined but shut off (a crash between define and start) is finished, its drive kept', async () => {
  const spawner = pipeline();
  const spawned = request();
  const plan = spawner.dryRun(spawned);
  await connection.define(plan.xml);
  const result = await spawner.spawn(spawned);
  expect(result.outcome).toBe('resumed');
  expect(result.drive).toBe('created');
  expect((await connection.lookupByUuid(spawned.instance.uuid))?.state).toBe('running');
});

test('an instance that needs no drive gets none, unless force_config_drive says so', async () => {
  const plain = request({ config_drive: '' });
  expect((await pipeline().spawn(plain)).drive).toBe('none');
  expect(existsSync(join(instancesPath, plain.instance.uuid, 'disk.config'))).toBe(false);
  const forced = request({ config_drive: '' });
  expect((await pipeline({ force_config_drive: true, format: 'vfat' }).spawn(forced)).drive).toBe('created');
  expect(readDrive(readFileSync(join(instancesPath, forced.instance.uuid, 'disk.config'))).format).toBe('vfat');
});

test('a failed step undefines what this spawn defined, keeps the directory, records no metadata, and says which step and why', async () => {
  const spawned = request();
  const recorded: string[] = [];
  const failure = pipeline({ mkisofsCmd: '/nonexistent/genisoimage' }, noting(recorded)).spawn(spawned);
  await expect(failure).rejects.toThrow(OperationFailed);
  await expect(failure).rejects.toMatchObject({ step: 'drive', transient: false, uuid: spawned.instance.uuid });
  await expect(failure).rejects.toThrow(/mkisofs_cmd = "\/nonexistent\/genisoimage" failed: no such command/);
  expect(await connection.lookupByUuid(spawned.instance.uuid)).toBeNull();
  expect(existsSync(join(instancesPath, spawned.instance.uuid, 'libvirt.xml'))).toBe(true);
  // A retry builds the drive afresh (new random seeds): a record kept from this attempt would not match it.
  expect(recorded).toEqual([]);
});

test('libvirt being unreachable is a transient failure', async () => {
  const unreachable = new LibvirtConnection('qemu+unix:///system?socket=/nonexistent/libvirt-sock');
  const spawner = new SpawnPipeline(
    { virt: virtOptions({ instances_path: instancesPath }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
    { connection: unreachable, disks, log: getLogger('test'), records: registry },
  );
  await expect(spawner.spawn(request())).rejects.toMatchObject({ name: 'OperationFailed', step: 'lookup', transient: true });
});

test('an image that is neither cached nor downloadable fails the spawn for good, naming the image', async () => {
  const spawned = request();
  const missing = { ...spawned, image: { ...spawned.image, id: '99999999-9999-4999-8999-999999999999' } };
  await expect(pipeline().spawn(missing)).rejects.toMatchObject({ name: 'OperationFailed', step: 'image', transient: false, message: expect.stringContaining('99999999-9999-4999-8999-999999999999') });
  expect(await connection.lookupByUuid(spawned.instance.uuid)).toBeNull();
});

test('the root disk is a qcow2 overlay on the cached image, grown to the flavor\'s root_gb', async () => {
  const spawned = request();
  await pipeline().spawn(spawned);
  const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', join(instancesPath, spawned.instance.uuid, 'disk')], { encoding: 'utf8' })) as Record<string, unknown>;
  expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': spawned.instance.flavor.root_gb * 1024 ** 3, 'backing-filename-format': 'qcow2' });
});

test('a dry run shows the domain XML and the drive without creating anything', () => {
  const spawned = request();
  const plan = pipeline().dryRun(spawned);
  expect(plan.xml).toContain(`<uuid>${spawned.instance.uuid}</uuid>`);
  expect(plan.drive?.get('openstack/latest/user_data')).toBeDefined();
  expect(existsSync(join(instancesPath, spawned.instance.uuid))).toBe(false);
});

/** A connection that touches `marker` (an access(2) that strace sees) as it starts a domain. */
class MarkedConnection extends LibvirtConnection {
  constructor(
    uri: string,
    private readonly marker: string,
  ) {
    super(uri);
  }

  override async start(domain: DomainIdentity): Promise<void> {
    existsSync(this.marker);
    await super.start(domain);
  }
}

test('before the guest starts, all it needs survives a power cut: each file synced before its name appears, then the directories', async () => {
  const spawned = request();
  const directory = join(instancesPath, spawned.instance.uuid);
  const startMarker = join(instancesPath, 'starting-the-domain');
  const marked = new MarkedConnection('test:///default', startMarker);
  try {
    const spawner = new SpawnPipeline(
      { virt: virtOptions({ instances_path: instancesPath }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
      { connection: marked, disks, log: getLogger('test'), records: registry },
    );
    const { calls } = await traceSyscalls(['openat', 'close', 'mkdir', 'link', 'rename', 'fsync', 'fdatasync'], () => spawner.spawn(spawned));

    const started = calls.find((call) => call.name === 'access' && call.path === startMarker);
    const made = calls.find((call) => call.name === 'mkdir' && call.path === directory && call.result === 0);
    expect(started).toBeDefined();
    expect(made).toBeDefined();
    const synced = syncedPaths(calls);
    const placed = calls.filter((call) => (call.name === 'link' || call.name === 'rename') && call.result === 0 && call.path2 !== null && dirname(call.path2) === directory);
    expect(placed.map((call) => basename(call.path2!)).sort()).toEqual(['disk', 'disk.config', 'libvirt.xml', 'metadata.json']);
    // A name never points at data a power cut could lose.
    const placedBeforeSynced = placed.filter((call) => !synced.some((sync) => sync.path === call.path && sync.ended < call.begun));
    expect(placedBeforeSynced.map((call) => basename(call.path2!))).toEqual([]);
    // The names themselves: the instance directory synced after the last of them, instances_path after the mkdir.
    const lastPlaced = Math.max(...placed.map((call) => call.ended));
    const directorySyncs = synced.filter((sync) => sync.path === directory && sync.begun > lastPlaced && sync.ended < started!.begun);
    const parentSyncs = synced.filter((sync) => sync.path === instancesPath && sync.begun > made!.ended && sync.ended < started!.begun);
    expect({ directorySyncs: directorySyncs.length > 0, parentSyncs: parentSyncs.length > 0 }).toEqual({ directorySyncs: true, parentSyncs: true });
    // Nothing staged is left behind.
    expect(readdirSync(directory).sort()).toEqual(['disk', 'disk.config', 'libvirt.xml', 'metadata.json']);
  } finally {
    await marked.close();
  }
});

describe('VIFs Neutron has not reported ACTIVE: network-vif-plugged awaited with the guest paused', () => {
  const PORT = DHCP_VIF.id;
  const KEY = `network-vif-plugged-${PORT}`;
  /** A request whose second VIF is down, on a network that wants its bridge made. */
  function downRequest(): SpawnRequest {
    const down = { ...DHCP_VIF, active: false, network: { ...DHCP_VIF.network, bridge: 'brq-test', meta: { ...DHCP_VIF.network.meta, should_create_bridge: true } } };
    return request({ network_info: [STATIC_VIF, down] });
  }
  function waitingPipeline(events: InstanceEvents | null, vifPlugging = { timeout: 60, fatal: true }) {
    const ensured: string[] = [];
    const bridges: HostBridges = { ensureBridge: async (bridge) => (ensured.push(bridge), 'created') };
    const spawner = new SpawnPipeline(
      { virt: virtOptions({ instances_path: instancesPath }), metadata: testOptions(), vifPlugging, drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
      { connection, disks, log: getLogger('test'), records: registry, bridges, events },
    );
    return { spawner, ensured };
  }
  const state = async (spawned: SpawnRequest) => (await connection.lookupByUuid(spawned.instance.uuid))?.state;
  /** Until the pipeline has registered its waiter and paused the domain. */
  async function pausedWaiting(spawned: SpawnRequest): Promise<void> {
    await eventually('the domain paused', async () => ((await state(spawned)) === 'paused' ? true : undefined), 5_000, 10);
  }

  test('the bridge is made, the guest waits paused, and runs once the event came', async () => {
    const events = new InstanceEvents();
    const { spawner, ensured } = waitingPipeline(events);
    const spawned = downRequest();
    const spawning = spawner.spawn(spawned);
    await pausedWaiting(spawned);
    expect(ensured).toEqual(['brq-test']);
    expect(events.pop(spawned.instance.uuid, KEY, 'completed')).toBe(true);
    await expect(spawning).resolves.toMatchObject({ outcome: 'spawned' });
    expect(await state(spawned)).toBe('running');
  });

  test.each([
    ['a timeout', null, `timed out after 1 s waiting for ${KEY}`],
    ['a failed event', 'failed' as const, `Neutron reported failure on ${KEY}`],
  ])('%s fails the spawn when vif_plugging_is_fatal, and the domain goes', async (_label, status, reason) => {
    const events = new InstanceEvents();
    const spawned = downRequest();
    const spawning = waitingPipeline(events, { timeout: 1, fatal: true }).spawner.spawn(spawned);
    if (status !== null) {
      await pausedWaiting(spawned);
      events.pop(spawned.instance.uuid, KEY, status);
    }
    const failure = await spawning.then(() => null, (error: unknown) => error);
    expect(failure).toBeInstanceOf(OperationFailed);
    expect(failure).toMatchObject({ step: 'vif_plugging', transient: false, reason, cause: { name: 'VirtualInterfaceCreateException' } });
    expect(await connection.lookupByUuid(spawned.instance.uuid)).toBeNull();
  });

  test('a timeout lets the guest run on when vif_plugging_is_fatal is false', async () => {
    const spawned = downRequest();
    await expect(waitingPipeline(new InstanceEvents(), { timeout: 1, fatal: false }).spawner.spawn(spawned)).resolves.toMatchObject({ outcome: 'spawned' });
    expect(await state(spawned)).toBe('running');
  });

  test('a delete ends the wait: the spawn returns with the guest still paused, for the build to stop', async () => {
    const events = new InstanceEvents();
    const spawned = downRequest();
    const spawning = waitingPipeline(events).spawner.spawn(spawned);
    await pausedWaiting(spawned);
    events.clear(spawned.instance.uuid);
    await expect(spawning).resolves.toMatchObject({ outcome: 'spawned' });
    expect(await state(spawned)).toBe('paused');
  });

  test('a domain found paused (a spawn that died waiting) is waited for and resumed, not started again', async () => {
    const events = new InstanceEvents();
    const spawned = downRequest();
    const first = waitingPipeline(events).spawner.spawn(spawned);
    await pausedWaiting(spawned);
    events.clear(spawned.instance.uuid);
    await first;
    const again = waitingPipeline(events).spawner.spawn(spawned);
    // Taken once the second spawn has registered its waiter.
    await eventually('the event taken', () => (events.pop(spawned.instance.uuid, KEY, 'completed') ? true : undefined), 5_000, 10);
    await expect(again).resolves.toMatchObject({ outcome: 'resumed' });
    expect(await state(spawned)).toBe('running');
  });

  test.each([
    ['without a control plane (nobody sends events)', null, 60],
    ['with vif_plugging_timeout 0', new InstanceEvents(), 0],
  ])('no wait %s', async (_label, events, timeout) => {
    const spawned = downRequest();
    await expect(waitingPipeline(events, { timeout, fatal: true }).spawner.spawn(spawned)).resolves.toMatchObject({ outcome: 'spawned' });
    expect(await state(spawned)).toBe('running');
  });
});
