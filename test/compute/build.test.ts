/**
 * NovaBuild's decisions, as a pure unit test: a real build_and_run_instance cast made by Nova's own code
 * (test/helpers/nova_wire_body.py), and stand-ins for the conductor (an RpcCaller that keeps the instance's
 * row and checks expected_task_state as Nova's database does), the pipeline, placement and libvirt. What a
 * real nova-conductor makes of the same calls is test/cli/build-control-plane.test.ts.
 */
import { networkInfoOf, type NetworkInfo } from '../../src/network/network-api.js';
import { NetworkRequestRefused } from '../../src/network/errors.js';
import { VirtualInterfaceCreate } from '../../src/compute/spawn-pipeline.js';
import { RpcCallError } from '../../src/bus/rpc-call-error.js';
import { decodeBody, type OsloMessage } from '../../src/bus/oslo-envelope.js';
import { BUILD_EVENT, NovaBuild, type NovaBuildDeps } from '../../src/compute/build.js';
import { OperationStopped } from '../../src/compute/instance-bookkeeping.js';
import { OperationFailed, BuildRescheduled } from '../../src/compute/operation-failed.js';
import type { SpawnResult } from '../../src/compute/spawn-result.js';
import type { SpawnAttempt, Spawner } from '../../src/compute/spawner.js';
import type { BuildInstancesArgs } from '../../src/conductor/compute-task-api.js';
import { ConductorApi, type RpcCaller } from '../../src/conductor/conductor-api.js';
import { getLogger } from '../../src/log.js';
import { buildCastOf, spawnRequestFromBuildAndRunInstance, type BuildCast } from '../../src/nova/build-and-run-instance.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { FULL, INSTANCE_UUID } from '../nova/nova-scenarios.js';
import { novaWireBody } from '../nova/wire-bodies.js';

const HOST = 'compute-1';

interface Row {
  vm_state: string | null;
  task_state: string | null;
  host: string | null;
  deleted?: boolean;
}

interface Call {
  method: string;
  what: string;
  changes?: Record<string, unknown>;
  kwargs: Record<string, unknown>;
}

function remoteError(className: string, message = className): RpcCallError {
  return new RpcCallError('RemoteError', 'object_action to conductor', message, { module: 'nova.exception', className, message, args: [], kwargs: {} });
}

function primitive(name: string, data: Record<string, unknown>): Record<string, unknown> {
  return { 'nova_object.name': name, 'nova_object.namespace': 'nova', 'nova_object.version': name === 'Instance' ? '2.7' : '1.0', 'nova_object.data': data };
}

/** nova-conductor with a database of one instance row: saves check expected_task_state as instance_update does. */
class Conductor implements RpcCaller {
  readonly calls: Call[] = [];
  failSave: ((changes: Record<string, unknown>) => RpcCallError | null) | null = null;
  /** A class action ("InstanceActionEvent.event_start") that fails with this error. */
  failClassAction: { what: string; error: RpcCallError } | null = null;

  constructor(readonly row: Row) {}

  async call(_target: unknown, _context: Record<string, unknown>, method: string, args: Record<string, unknown>): Promise<unknown> {
    if (method === 'object_class_action_versions') {
      const what = `${String(args['objname'])}.${String(args['objmethod'])}`;
      this.calls.push({ method, what, kwargs: args['kwargs'] as Record<string, unknown> });
      if (this.failClassAction?.what === what) throw this.failClassAction.error;
      if (what === 'Instance.get_by_uuid') {
        if (this.row.deleted) throw remoteError('InstanceNotFound');
        return primitive('Instance', { uuid: INSTANCE_UUID, vm_state: this.row.vm_state, task_state: this.row.task_state, host: this.row.host });
      }
      if (what === 'EC2Ids.get_by_instance') return primitive('EC2Ids', { instance_id: 'i-0000002a', ami_id: 'ami-00000007', kernel_id: null, ramdisk_id: null });
      return null;
    }
    const objinst = args['objinst'] as Record<string, unknown>;
    const name = objinst['nova_object.name'] as string;
    const data = objinst['nova_object.data'] as Record<string, unknown>;
    const changed = (objinst['nova_object.changes'] as string[] | undefined) ?? [];
    const changes = Object.fromEntries(changed.map((field) => [field, data[field]]));
    const kwargs = args['kwargs'] as Record<string, unknown>;
    this.calls.push({ method, what: `${name}.${String(args['objmethod'])}`, changes, kwargs });
    if (name === 'InstanceFault') return [{ id: 1 }, null];
    const failure = this.failSave?.(changes) ?? null;
    if (failure) throw failure;
    if (this.row.deleted) throw remoteError('InstanceNotFound');
    const expected = kwargs['expected_task_state'] as (string | null)[] | undefined;
    if (expected !== undefined && !expected.includes(this.row.task_state)) {
      throw remoteError(this.row.task_state === 'deleting' ? 'UnexpectedDeletingTaskStateError' : 'UnexpectedTaskStateError');
    }
    for (const field of ['vm_state', 'task_state', 'host'] as const) if (field in changes) this.row[field] = changes[field] as string | null;
    return [{}, null];
  }

  /** The calls, each as "what [changes] expected". */
  get story(): string[] {
    return this.calls.map(({ what, changes, kwargs }) => {
      const expected = kwargs['expected_task_state'];
      return [what, changes && Object.keys(changes).length > 0 ? JSON.stringify(changes) : '', expected === undefined ? '' : `expected ${JSON.stringify(expected)}`]
        .filter((part) => part !== '')
        .join(' ');
    });
  }
}

class Pipeline implements Spawner {
  readonly requests: SpawnRequest[] = [];
  failure: OperationFailed | null = null;

  async spawn(request: SpawnRequest, _attempt?: SpawnAttempt): Promise<SpawnResult> {
    this.requests.push(request);
    if (this.failure) throw this.failure;
    return { uuid: request.instance.uuid, domain: 'instance-0000002a', outcome: 'spawned', drive: 'created' };
  }
}

/** A cast decoded as the bus decodes it: the SpawnRequest and its BuildCast. */
interface Decoded {
  request: SpawnRequest;
  build: BuildCast;
}

function decodedCast(message: OsloMessage): Decoded {
  return { request: spawnRequestFromBuildAndRunInstance(message), build: buildCastOf(message) };
}

let cast: Decoded;
/** The same cast with an instance whose root disk is not named yet. */
let unnamed: Decoded;
/** The same cast with no alternate host left in host_list. */
let lastHost: Decoded;
/** The same cast for network `none` (`--nic none`). */
let noNetwork: Decoded;

beforeAll(async () => {
  const wire = await novaWireBody('full', '6.0');
  const decoded = decodeBody(wire.body, wire.content_type);
  if (decoded.kind !== 'oslo') throw new Error('expected an oslo envelope');
  cast = decodedCast(decoded.message);
  const copy = JSON.parse(JSON.stringify(decoded.message)) as typeof decoded.message;
  ((copy.args['instance'] as Record<string, Record<string, unknown>>)['nova_object.data']!)['root_device_name'] = null;
  unnamed = decodedCast(copy);
  const alone = JSON.parse(JSON.stringify(decoded.message)) as typeof decoded.message;
  alone.args['host_list'] = [];
  lastHost = decodedCast(alone);
  const none = JSON.parse(JSON.stringify(decoded.message)) as typeof decoded.message;
  const requests = ((none.args['requested_networks'] as Record<string, Record<string, unknown[]>>)['nova_object.data']!)['objects']! as Record<string, Record<string, unknown>>[];
  requests.splice(1);
  Object.assign(requests[0]!['nova_object.data']!, { network_id: 'none', port_id: null, address: null });
  noNetwork = decodedCast(none);
}, 60_000);

function setup(row: Row, computeTask?: NovaBuildDeps['computeTask'], allocated: () => Promise<NetworkInfo | null> = async () => networkInfoOf([])) {
  const conductor = new Conductor(row);
  const pipeline = new Pipeline();
  const deleted: string[] = [];
  const undefined_: string[] = [];
  const nodes = { updates: 0, failed: 0, succeeded: 0 };
  const reschedules: BuildInstancesArgs[] = [];
  const neutronAsked: { token: string | null; uuid: string }[] = [];
  const network: string[] = [];
  const build = new NovaBuild(pipeline, {
    conductor: new ConductorApi(conductor),
    computeTask: computeTask ?? { buildInstances: async (_context, args) => void reschedules.push(args) },
    placement: { deleteAllocations: async (consumer: string) => (deleted.push(consumer), true) },
    neutron: { instanceSecurityGroups: async (user, uuid) => (neutronAsked.push({ token: user.auth_token, uuid }), ['web-from-neutron']) },
    network: {
      allocate: async (_book, _instance, _context, _requested, _groups, mayBeAllocated) => (network.push(mayBeAllocated ? 'allocate (may be allocated)' : 'allocate'), allocated()),
      deallocate: async () => void network.push('deallocate'),
    },
    nodes: {
      node: null,
      update: async () => (nodes.updates++, null as never),
      buildFailed: () => void nodes.failed++,
      buildSucceeded: () => void nodes.succeeded++,
    },
    connection: { removeDomain: async () => (undefined_.push('instance-0000002a'), 'instance-0000002a') },
    host: HOST,
    log: getLogger('test'),
    rootDeviceName: () => '/dev/vdz',
    now: () => new Date('2026-12-02T03:04:05.678Z'),
  });
  return { conductor, pipeline, deleted, undefined: undefined_, nodes, reschedules, neutronAsked, network, build };
}

/** The first delivery of a cast (not a retry, not redelivered): its instance is Nova's current one. */
const FIRST: SpawnAttempt = { number: 1, last: false, redelivered: false };

/** Nova's first save and the claim's, as one. */
const CLAIM_SAVE = /^Instance\.save \{"host":"compute-1","launched_on":"compute-1","node":"compute-1","system_metadata":\{.*"boot_roles":.*\},"task_state":null,"vm_state":"building"\} expected \["scheduling",null\]$/;

test('a build from the cast: Nova\'s saves in order, Nova\'s EC2 ids to the pipeline, the event started and finished', async () => {
  const { conductor, pipeline, nodes, neutronAsked, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  await expect(build.build(cast.request, cast.build, FIRST)).resolves.toMatchObject({ outcome: 'spawned' });
  // The cast's instance is current on a first delivery: not read again; the event started with the first save.
  expect(conductor.story).toEqual([
    'InstanceActionEvent.event_start',
    expect.stringMatching(CLAIM_SAVE),
    // Asked at once, answered while the saves go on.
    'EC2Ids.get_by_instance',
    'Instance.save {"task_state":"networking","vm_state":"building"} expected [null]',
    // No block_device_mapping save: nothing is attached (no volumes).
    'Instance.save {"task_state":"spawning","vm_state":"building"} expected ["networking"]',
    // _allocate_network_async's network_allocated goes with the next save.
    expect.stringMatching(/^Instance\.save \{"launched_at":"2026-12-02T03:04:05Z","power_state":1,"system_metadata":\{.*"network_allocated":"True"\},"task_state":null,"vm_state":"active"\} expected \["spawning"\]$/),
    'InstanceActionEvent.event_finish_with_failure',
  ]);
  expect(conductor.calls[0]!.kwargs).toEqual({ want_result: false, host: HOST });
  expect(conductor.calls.at(-1)!.kwargs).toEqual({ exc_val: null, exc_tb: null, want_result: false });
  expect(pipeline.requests).toHaveLength(1);
  expect(pipeline.requests[0]!.instance.ec2_ids).toEqual({ instance_id: 'i-0000002a', ami_id: 'ami-00000007', kernel_id: null, ramdisk_id: null });
  // The groups of the instance's ports in Neutron, asked with the user's token; not the cast's request.
  expect(cast.request.security_groups).toEqual(['default', 'web']);
  expect(pipeline.requests[0]!.security_groups).toEqual(['web-from-neutron']);
  expect(neutronAsked).toEqual([{ token: cast.request.context.auth_token, uuid: INSTANCE_UUID }]);
  expect(nodes).toEqual({ updates: 1, failed: 0, succeeded: 1 });
  expect(conductor.row).toEqual({ vm_state: 'active', task_state: null, host: HOST });
});

test('an instance without a root device name gets the one the spawn will use, saved with spawning', async () => {
  const { conductor, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  await build.build(unnamed.request, unnamed.build);
  expect(conductor.story).toContain('Instance.save {"root_device_name":"/dev/vdz","task_state":"spawning","vm_state":"building"} expected ["networking"]');
});

test('a cast delivered again, or a retry, reads the instance first', async () => {
  for (const attempt of [{ number: 1, last: false, redelivered: true }, { number: 2, last: false, redelivered: false }, { number: 1, last: true }]) {
    const { conductor, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
    await build.build(cast.request, cast.build, attempt);
    expect(conductor.story.slice(0, 3)).toEqual(['Instance.get_by_uuid', 'InstanceActionEvent.event_start', expect.stringMatching(CLAIM_SAVE)]);
  }
});

test('an event_start that fails while the first save succeeds: the build goes on to ACTIVE, no event finished', async () => {
  const { conductor, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  conductor.failClassAction = { what: 'InstanceActionEvent.event_start', error: remoteError('OperationalError', '(sqlite3.OperationalError) database is locked') };
  await expect(build.build(cast.request, cast.build, FIRST)).resolves.toMatchObject({ outcome: 'spawned' });
  expect(conductor.row).toEqual({ vm_state: 'active', task_state: null, host: HOST });
  expect(conductor.story.filter((line) => line.startsWith('InstanceActionEvent'))).toEqual(['InstanceActionEvent.event_start']);
});

test('a build redelivered after it reached spawning: no event started again, no save repeated, and ACTIVE', async () => {
  const { conductor, pipeline, build } = setup({ vm_state: 'building', task_state: 'spawning', host: HOST });
  await build.build(cast.request, cast.build);
  expect(conductor.story).toEqual([
    'Instance.get_by_uuid',
    'EC2Ids.get_by_instance',
    expect.stringMatching(/^Instance\.save .*"vm_state":"active"\} expected \["spawning"\]$/),
    'InstanceActionEvent.event_finish_with_failure',
  ]);
  expect(pipeline.requests).toHaveLength(1);
});

test.each([
  ['networking'],
  // Saved by a daemon of an earlier version, which saved block_device_mapping.
  ['block_device_mapping'],
  // Claimed: the cast has networks, so networking is saved first.
  [null],
])('a build redelivered at task_state %s: the spawning save expects the task state before it', async (taskState) => {
  const { conductor, build } = setup({ vm_state: 'building', task_state: taskState, host: HOST });
  await build.build(cast.request, cast.build);
  const saves = conductor.story.filter((call) => call.startsWith('Instance.save'));
  expect(saves.filter((save) => save.includes('"task_state":"networking"'))).toHaveLength(taskState === null ? 1 : 0);
  expect(saves).toContain(`Instance.save {"task_state":"spawning","vm_state":"building"} expected ["${taskState ?? 'networking'}"]`);
});

test('a build redelivered once ACTIVE: the pipeline (idempotent) is asked, nothing is saved', async () => {
  const { conductor, build } = setup({ vm_state: 'active', task_state: null, host: HOST });
  await build.build(cast.request, cast.build);
  expect(conductor.story.filter((line) => line.startsWith('Instance.save'))).toEqual([]);
});

test('a transient failure with attempts left: no fault, no ERROR, allocations kept, the event left open', async () => {
  const { conductor, pipeline, deleted, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  pipeline.failure = new OperationFailed(INSTANCE_UUID, 'image', true, 'ImageDownloadFailed: Glance answered 503');
  await expect(build.build(cast.request, cast.build, { number: 1, last: false })).rejects.toBe(pipeline.failure);
  expect(conductor.story.filter((line) => /Fault|error|event_finish/.test(line))).toEqual([]);
  expect(deleted).toEqual([]);
  expect(conductor.row).toEqual({ vm_state: 'building', task_state: 'spawning', host: HOST });
});

test('a permanent failure: the fault with the reason, host cleared and ERROR, allocations deleted, the event finished with the error', async () => {
  const { conductor, pipeline, deleted, nodes, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  const cause = Object.assign(new Error('x'), { name: 'ImageUnacceptable', image: 'img-1', reason: 'content is qcow2 but disk_format says raw' });
  pipeline.failure = new OperationFailed(INSTANCE_UUID, 'image', false, 'ImageUnacceptable: img-1 (/tmp/part) is unacceptable: ...', { cause });
  await expect(build.build(cast.request, cast.build, { number: 1, last: false })).rejects.toBe(pipeline.failure);
  const fault = conductor.calls.find((call) => call.what === 'InstanceFault.create')!;
  expect(fault.changes).toMatchObject({ host: HOST, instance_uuid: INSTANCE_UUID, code: 500, message: 'ImageUnacceptable: image img-1: content is qcow2 but disk_format says raw' });
  // _cleanup_allocated_networks: the ports released, network_allocated False with the ERROR save.
  expect(conductor.story).toContainEqual(expect.stringMatching(/^Instance\.save \{"host":null,"launched_on":null,"node":null,"system_metadata":\{.*"network_allocated":"False"\},"task_state":null,"vm_state":"error"\}$/));
  expect(conductor.row).toEqual({ vm_state: 'error', task_state: null, host: null });
  expect(deleted).toEqual([INSTANCE_UUID]);
  expect(nodes.failed).toBe(1);
  const finish = conductor.calls.at(-1)!;
  expect(finish.what).toBe('InstanceActionEvent.event_finish_with_failure');
  expect(finish.kwargs).toMatchObject({ exc_val: fault.changes!['message'], exc_tb: expect.stringContaining('OperationFailed') });
});

test('a transient failure on the last attempt with no alternate host left is final: ERROR, not handed to the conductor', async () => {
  const { conductor, pipeline, reschedules, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  pipeline.failure = new OperationFailed(INSTANCE_UUID, 'image', true, 'ImageDownloadFailed: Glance answered 503');
  await expect(build.build(lastHost.request, lastHost.build, { number: 5, last: true })).rejects.toBe(pipeline.failure);
  expect(conductor.row.vm_state).toBe('error');
  expect(conductor.calls.find((call) => call.what === 'InstanceFault.create')!.changes).toMatchObject({ message: 'ImageDownloadFailed: Glance answered 503' });
  expect(reschedules).toEqual([]);
});

test("a failure of this host with an alternate left: rescheduled as Nova does, the cast's arguments handed back", async () => {
  const { conductor, pipeline, deleted, nodes, reschedules, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  const cause = Object.assign(new Error('internal error: process exited while connecting to monitor'), { name: 'LibvirtError' });
  pipeline.failure = new OperationFailed(INSTANCE_UUID, 'start', false, 'LibvirtError: internal error: process exited while connecting to monitor', { cause });
  const failure = await build.build(cast.request, cast.build, { number: 1, last: false }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(BuildRescheduled);
  expect((failure as BuildRescheduled).cause).toBe(pipeline.failure);
  // _nil_out_instance_obj_host_and_node, task_state scheduling, saved without expected_task_state.
  expect(conductor.story.slice(-2)).toEqual([
    // The ports released first (deallocate_networks_on_reschedule), network_allocated False.
    expect.stringMatching(/^Instance\.save \{"host":null,"launched_on":null,"node":null,"system_metadata":\{.*"network_allocated":"False"\},"task_state":"scheduling"\}$/),
    'InstanceActionEvent.event_finish_with_failure',
  ]);
  expect(conductor.row).toEqual({ vm_state: 'building', task_state: 'scheduling', host: null });
  expect(conductor.calls.some((call) => call.what === 'InstanceFault.create')).toBe(false);
  expect(deleted).toEqual([INSTANCE_UUID]);
  expect(nodes).toMatchObject({ failed: 1, updates: 1 });
  expect(reschedules).toHaveLength(1);
  const [args] = reschedules as [BuildInstancesArgs];
  const sent = cast.build.args;
  expect(args.instances.map((instance) => instance.get('uuid'))).toEqual([INSTANCE_UUID]);
  expect(args.instances[0]!.whatChanged()).toEqual([]);
  expect(args.host_lists).toEqual([sent['host_list']]);
  for (const name of ['image', 'admin_password', 'injected_files', 'requested_networks', 'security_groups', 'request_spec'] as const) expect(args[name]).toEqual(sent[name]);
  expect(args.filter_properties).toEqual({
    retry: { num_attempts: 1, hosts: [], exc: [expect.stringContaining('OperationFailed')], exc_reason: 'LibvirtError: internal error: process exited while connecting to monitor' },
  });
  expect(conductor.calls.at(-1)!.kwargs).toMatchObject({ exc_val: 'LibvirtError: internal error: process exited while connecting to monitor (rescheduled)' });
});

test('a transient failure on the last attempt with an alternate left is rescheduled', async () => {
  const { conductor, pipeline, reschedules, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  pipeline.failure = new OperationFailed(INSTANCE_UUID, 'image', true, 'ImageDownloadFailed: Glance answered 503');
  await expect(build.build(cast.request, cast.build, { number: 5, last: true })).rejects.toBeInstanceOf(BuildRescheduled);
  expect(reschedules).toHaveLength(1);
  expect(conductor.row).toEqual({ vm_state: 'building', task_state: 'scheduling', host: null });
});

test('a failure of the request (ImageUnacceptable) is not rescheduled, alternates or not', async () => {
  const { conductor, pipeline, reschedules, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  const cause = Object.assign(new Error('x'), { name: 'ImageUnacceptable', image: 'img-1', reason: 'content is qcow2 but disk_format says raw' });
  pipeline.failure = new OperationFailed(INSTANCE_UUID, 'image', false, 'ImageUnacceptable: img-1 (/tmp/part) is unacceptable: ...', { cause });
  await expect(build.build(cast.request, cast.build)).rejects.toBe(pipeline.failure);
  expect(reschedules).toEqual([]);
  expect(conductor.row.vm_state).toBe('error');
});

test('a failure of the conductor, not of the spawn, is not rescheduled', async () => {
  const { conductor, reschedules, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  conductor.failSave = (changes) => ('host' in changes ? remoteError('ValueError', 'a bug') : null);
  await expect(build.build(cast.request, cast.build)).rejects.toBeInstanceOf(OperationFailed);
  expect(reschedules).toEqual([]);
});

test('a reschedule whose cast the broker does not take: the failure is recorded, ERROR with its reason', async () => {
  const { conductor, pipeline, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null }, {
    buildInstances: () => Promise.reject(new RpcCallError('ConnectionLost', 'build_instances to conductor', 'not confirmed')),
  });
  pipeline.failure = new OperationFailed(INSTANCE_UUID, 'start', false, 'LibvirtError: boom');
  await expect(build.build(cast.request, cast.build)).rejects.toBe(pipeline.failure);
  expect(conductor.row).toEqual({ vm_state: 'error', task_state: null, host: null });
  expect(conductor.calls.find((call) => call.what === 'InstanceFault.create')!.changes).toMatchObject({ message: 'LibvirtError: boom' });
});

test('a busy conductor database is transient; the retry resumes where the first attempt stopped', async () => {
  const { conductor, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  conductor.failSave = (changes) => (changes['task_state'] === 'networking' ? remoteError('OperationalError', '(sqlite3.OperationalError) database is locked') : null);
  const failure = (await build.build(cast.request, cast.build, FIRST).catch((error: unknown) => error)) as OperationFailed;
  expect(failure).toBeInstanceOf(OperationFailed);
  expect(failure.transient).toBe(true);
  expect(conductor.row).toEqual({ vm_state: 'building', task_state: null, host: HOST });
  conductor.failSave = null;
  conductor.calls.length = 0;
  await build.build(cast.request, cast.build, { number: 2, last: false, redelivered: false });
  expect(conductor.story.slice(0, 3)).toEqual(['Instance.get_by_uuid', 'EC2Ids.get_by_instance', 'Instance.save {"task_state":"networking","vm_state":"building"} expected [null]']);
  expect(conductor.row).toEqual({ vm_state: 'active', task_state: null, host: HOST });
});

test('an instance deleted during the build: the build stops, its domain is undefined, nothing is set to ERROR', async () => {
  const { conductor, deleted, undefined: undefinedDomains, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  conductor.failSave = (changes) => (changes['task_state'] === 'spawning' ? remoteError('UnexpectedDeletingTaskStateError') : null);
  const failure = await build.build(cast.request, cast.build).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(OperationStopped);
  expect((failure as OperationStopped).transient).toBe(false);
  expect(undefinedDomains).toEqual(['instance-0000002a']);
  expect(deleted).toEqual([]);
  expect(conductor.story.filter((line) => /Fault|"error"/.test(line))).toEqual([]);
});

test('a first delivery whose instance was deleted, or taken by another task, before the build: stopped by the first save', async () => {
  const rows: [Row, boolean][] = [
    [{ vm_state: 'building', task_state: 'scheduling', host: null, deleted: true }, true],
    [{ vm_state: 'building', task_state: 'deleting', host: null }, true],
    [{ vm_state: 'building', task_state: 'spawning', host: 'compute-2' }, false],
  ];
  for (const [row, deleted] of rows) {
    const { conductor, pipeline, deleted: allocationsDeleted, build } = setup({ ...row });
    const failure = await build.build(cast.request, cast.build, FIRST).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OperationStopped);
    expect((failure as OperationStopped).deleted).toBe(deleted);
    expect(conductor.story).toEqual(['InstanceActionEvent.event_start', expect.stringMatching(CLAIM_SAVE)]);
    expect(conductor.row).toEqual(row);
    expect(pipeline.requests).toEqual([]);
    expect(allocationsDeleted).toEqual([]);
  }
});

test('an instance gone before the build: stopped at once, nothing saved', async () => {
  const { conductor, pipeline, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null, deleted: true });
  await expect(build.build(cast.request, cast.build)).rejects.toBeInstanceOf(OperationStopped);
  expect(conductor.story).toEqual(['Instance.get_by_uuid']);
  expect(pipeline.requests).toEqual([]);
});

test('a plain request (no cast) goes to the pipeline untouched, with no call to the conductor', async () => {
  const { conductor, pipeline, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
  await build.build(FULL, null);
  expect(pipeline.requests).toEqual([FULL]);
  expect(conductor.calls).toEqual([]);
  expect(BUILD_EVENT).toBe('compute__do_build_and_run_instance');
});

describe('the network: allocated before the spawn, released when the build does not go on', () => {
  const PORT_VIF = {
    id: 'a1b2c3d4-0000-4000-8000-000000000001', address: 'fa:16:3e:00:00:01', type: 'bridge', devname: 'tapa1b2c3d4-00', vnic_type: 'normal', active: false,
    details: {}, profile: {}, preserve_on_delete: false, delegate_create: true, meta: {},
    network: { id: 'n1', bridge: 'brqn1', label: 'flat', meta: { should_create_bridge: true }, subnets: [] },
  };

  test("the pipeline gets the allocated VIFs; a first delivery allocates, a redelivery past networking may find them", async () => {
    const { pipeline, network, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null }, undefined, async () => networkInfoOf([PORT_VIF]));
    await build.build(cast.request, cast.build, FIRST);
    expect(network).toEqual(['allocate']);
    expect(pipeline.requests[0]!.instance.network_info.map((vif) => vif.id)).toEqual([PORT_VIF.id]);

    const again = setup({ vm_state: 'building', task_state: 'spawning', host: HOST }, undefined, async () => networkInfoOf([PORT_VIF]));
    await again.build.build(cast.request, cast.build, { number: 1, last: false, redelivered: true });
    expect(again.network).toEqual(['allocate (may be allocated)']);
  });

  test.each([
    ['a refusal of the request (PortInUse): ERROR, not rescheduled', new NetworkRequestRefused('PortInUse', 'Port p is still in use.'), 'error'],
    ['a binding this host could not make (PortBindingFailed): rescheduled', new NetworkRequestRefused('PortBindingFailed', 'Binding failed for port p, please check neutron logs for more information.'), 'scheduling'],
  ])('%s, the ports released', async (_label, refusal, outcome) => {
    const { conductor, network, reschedules, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null }, undefined, async () => {
      throw new OperationFailed(INSTANCE_UUID, 'network', false, refusal.message, { cause: refusal });
    });
    await expect(build.build(cast.request, cast.build, { number: 1, last: false })).rejects.toBeInstanceOf(OperationFailed);
    expect(network).toEqual(['allocate', 'deallocate']);
    expect(conductor.row.task_state ?? conductor.row.vm_state).toBe(outcome);
    expect(reschedules).toHaveLength(outcome === 'scheduling' ? 1 : 0);
    if (outcome === 'error') expect(conductor.calls.find((call) => call.what === 'InstanceFault.create')!.changes).toMatchObject({ message: refusal.message });
  });

  test('VIFs that never came up (vif_plugging_timeout): ERROR with the reason, not rescheduled, the ports released', async () => {
    const { conductor, pipeline, network, reschedules, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
    const cause = new VirtualInterfaceCreate(`timed out after 300 s waiting for network-vif-plugged-${PORT_VIF.id}`);
    pipeline.failure = new OperationFailed(INSTANCE_UUID, 'vif_plugging', false, cause.reason, { cause });
    await expect(build.build(cast.request, cast.build, { number: 1, last: false })).rejects.toBe(pipeline.failure);
    expect(reschedules).toEqual([]);
    expect(network).toEqual(['allocate', 'deallocate']);
    expect(conductor.row.vm_state).toBe('error');
    expect(conductor.calls.find((call) => call.what === 'InstanceFault.create')!.changes).toMatchObject({
      message: `VirtualInterfaceCreateException: timed out after 300 s waiting for network-vif-plugged-${PORT_VIF.id}`,
    });
  });

  test("network `none`: no networking save, nothing allocated, network_allocated not set (Nova's _allocate_network_async returns early)", async () => {
    const { conductor, pipeline, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null }, undefined, async () => null);
    await build.build(noNetwork.request, noNetwork.build, FIRST);
    expect(pipeline.requests[0]!.instance.network_info).toEqual([]);
    expect(conductor.story.filter((call) => call.startsWith('Instance.save'))).toEqual([
      expect.stringMatching(CLAIM_SAVE),
      'Instance.save {"task_state":"spawning","vm_state":"building"} expected [null]',
      'Instance.save {"launched_at":"2026-12-02T03:04:05Z","power_state":1,"task_state":null,"vm_state":"active"} expected ["spawning"]',
    ]);
  });

  test('a build stopped by a delete releases the ports too', async () => {
    const { conductor, network, build } = setup({ vm_state: 'building', task_state: 'scheduling', host: null });
    conductor.failSave = (changes) => ('task_state' in changes && changes['task_state'] === 'spawning' ? remoteError('UnexpectedDeletingTaskStateError') : null);
    await expect(build.build(cast.request, cast.build, FIRST)).rejects.toBeInstanceOf(OperationStopped);
    expect(network).toEqual(['allocate', 'deallocate']);
  });
});
