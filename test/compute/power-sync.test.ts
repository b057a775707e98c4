/**
 * PowerStateSync's decisions, as a pure unit test: stand-ins for the conductor (instance rows), the driver
 * and the RPC client that casts stop_instance, all writing to one trail; the compute API's force_stop is the
 * real one.
 */
import type { RpcTarget } from '../../src/bus/rpc-client.js';
import { ComputeApi } from '../../src/compute/compute-api.js';
import { POWER_STATE, type PowerState } from '../../src/compute/driver.js';
import { PowerStateSync, type RunningDeletedInstanceAction } from '../../src/compute/power-sync.js';
import { getLogger } from '../../src/log.js';
import { Conductor, Driver, HOST, hostError, remoteError, type Failures, type Row } from './lifecycle-stand-ins.js';

const NOW = new Date('2026-12-02T03:04:05Z');
const A = '0a000000-0000-4000-8000-00000000000a';
const B = '0b000000-0000-4000-8000-00000000000b';
const C = '0c000000-0000-4000-8000-00000000000c';

interface Cast {
  target: RpcTarget;
  context: Record<string, unknown>;
  method: string;
  args: Record<string, unknown>;
}

function setup(options: { action?: RunningDeletedInstanceAction; timeoutS?: number } = {}) {
  const trail: string[] = [];
  const failures: Failures = new Map();
  const conductor = new Conductor(trail, failures);
  const driver = new Driver(trail, failures);
  const casts: Cast[] = [];
  const rpc = {
    cast: async (target: RpcTarget, context: Record<string, unknown>, method: string, args: Record<string, unknown>) => {
      casts.push({ target, context, method, args });
      trail.push(`cast ${method} to ${target.topic}.${target.server ?? ''}`);
    },
  };
  const log = getLogger('test');
  const sync = new PowerStateSync({
    conductor,
    driver,
    computeApi: new ComputeApi({ conductor, host: HOST, log, rpc }),
    host: HOST,
    log,
    runningDeletedInstanceAction: options.action ?? 'reap',
    runningDeletedInstanceTimeoutS: options.timeoutS ?? 0,
    now: () => NOW,
  });
  /** An instance row, and its domain in `power` (undefined: no domain). */
  const instance = (uuid: string, row: Partial<Row>, power?: PowerState): Row => {
    if (power !== undefined) driver.states.set(uuid, power);
    return conductor.add({ uuid, id: uuid.charCodeAt(1), host: HOST, vm_state: 'active', task_state: null, power_state: POWER_STATE.RUNNING, ...row });
  };
  return { trail, failures, conductor, driver, casts, sync, instance };
}

describe('powerSync', () => {
  test('a guest that shut itself down: power_state saved, then stopped through the compute API (force_stop)', async () => {
    const { trail, conductor, casts, sync, instance } = setup();
    const row = instance(A, {}, POWER_STATE.SHUTDOWN);
    await sync.powerSync();
    expect(trail).toEqual([
      'InstanceList.get_by_host',
      'Instance.refresh',
      'Instance.save {"power_state":4}',
      'Instance.save {"progress":0,"task_state":"powering-off"} expected [null]',
      'InstanceAction.action_start',
      `cast stop_instance to compute.${HOST}`,
    ]);
    expect(conductor.calls[0]!.args).toEqual([HOST]);
    expect(conductor.calls[0]!.kwargs).toEqual({ expected_attrs: [], use_slave: true });
    expect(conductor.calls.find((call) => call.what === 'Instance.refresh')!.kwargs).toEqual({ use_slave: true });
    const action = conductor.calls.find((call) => call.what === 'InstanceAction.action_start')!;
    expect(action.args).toEqual([A, 'stop']);
    expect(action.kwargs).toEqual({ want_result: false });
    const [cast] = casts as [Cast];
    expect(cast.target).toEqual({ topic: 'compute', server: HOST, namespace: null, version: '6.0' });
    expect(cast.args['clean_shutdown']).toBe(true);
    const sent = cast.args['instance'] as Record<string, unknown>;
    expect(sent['nova_object.name']).toBe('Instance');
    expect(sent['nova_object.data']).toMatchObject({ uuid: A, task_state: 'powering-off', power_state: POWER_STATE.SHUTDOWN });
    // One admin context for the action and the cast: stop_instance's event finds the action by its request id.
    expect(cast.context['request_id']).toBe(action.context['request_id']);
    expect(cast.context['is_admin']).toBe(true);
    expect(row).toMatchObject({ vm_state: 'active', task_state: 'powering-off', power_state: POWER_STATE.SHUTDOWN });
  });

  test('a guest that is shut off at the first look but runs again at the second is left running', async () => {
    const { trail, casts, driver, sync, instance } = setup();
    instance(A, {}, POWER_STATE.RUNNING);
    driver.answers.push(POWER_STATE.SHUTDOWN);
    await sync.powerSync();
    expect(trail).toEqual(['InstanceList.get_by_host', 'Instance.refresh', 'Instance.save {"power_state":4}']);
    expect(casts).toEqual([]);
  });

  test('the other states: in sync, a pending task, moved to another host, stopped but running, crashed while paused', async () => {
    const { trail, conductor, casts, sync, instance } = setup();
    instance(A, {}, POWER_STATE.RUNNING);
    instance(B, { task_state: 'rebooting' }, POWER_STATE.SHUTDOWN);
    const moved = instance(C, {}, POWER_STATE.RUNNING);
    const stopped = instance('0d000000-0000-4000-8000-00000000000d', { vm_state: 'stopped', power_state: POWER_STATE.SHUTDOWN }, POWER_STATE.RUNNING);
    const paused = instance('0e000000-0000-4000-8000-00000000000e', { vm_state: 'paused', power_state: POWER_STATE.PAUSED }, POWER_STATE.CRASHED);
    // Listed as this host's, then refreshed as another's: a live migration took it meanwhile.
    const getByHost = conductor.classAction.bind(conductor);
    conductor.classAction = async (...args) => {
      const list = await getByHost(...args);
      moved.host = 'compute-2';
      return list;
    };
    await sync.powerSync();
    // The syncs run side by side, as in Nova's pool: their saves interleave.
    expect(trail.filter((line) => line.startsWith('Instance.save')).sort()).toEqual([
      'Instance.save {"power_state":1}',
      'Instance.save {"power_state":6}',
      'Instance.save {"progress":0,"task_state":"powering-off"} expected [null]',
      'Instance.save {"progress":0,"task_state":"powering-off"} expected [null]',
    ]);
    // The pending task is skipped before the refresh: four instances refreshed of five.
    expect(trail.filter((line) => line === 'Instance.refresh')).toHaveLength(4);
    expect(casts.map((cast) => (cast.args['instance'] as { 'nova_object.data': { uuid: string } })['nova_object.data'].uuid).sort()).toEqual([stopped.uuid, paused.uuid]);
  });

  test("every instance's part goes through the owner's perInstance, and one failing leaves the others", async () => {
    const { failures, casts, sync, instance } = setup();
    instance(A, {}, POWER_STATE.SHUTDOWN);
    instance(B, {}, POWER_STATE.SHUTDOWN);
    failures.set(`driver.powerState ${A}`, hostError('libvirt: domain vanished', false));
    const seen: string[] = [];
    await sync.powerSync(async (uuid, work) => {
      seen.push(uuid);
      await work();
    });
    expect(seen.sort()).toEqual([A, B]);
    expect(casts.map((cast) => (cast.args['instance'] as { 'nova_object.data': { uuid: string } })['nova_object.data'].uuid)).toEqual([B]);
  });

  test('an instance deleted meanwhile is left alone', async () => {
    const { trail, failures, casts, sync, instance } = setup();
    instance(A, {}, POWER_STATE.SHUTDOWN);
    failures.set('Instance.refresh', remoteError('InstanceNotFound'));
    await expect(sync.powerSync()).resolves.toBeUndefined();
    expect(trail).toEqual(['InstanceList.get_by_host', 'Instance.refresh']);
    expect(casts).toEqual([]);
  });

  test('a force_stop the conductor refuses is only logged: the next sync tries again', async () => {
    const { trail, failures, casts, sync, instance } = setup();
    instance(A, {}, POWER_STATE.SHUTDOWN);
    failures.set('InstanceAction.action_start', remoteError('InstanceActionNotFound'));
    await expect(sync.powerSync()).resolves.toBeUndefined();
    expect(trail.at(-1)).toBe('InstanceAction.action_start');
    expect(casts).toEqual([]);
  });
});

describe('cleanupRunningDeleted', () => {
  function zombies(options: { action?: RunningDeletedInstanceAction; timeoutS?: number } = {}) {
    const context = setup(options);
    // A: deleted an hour ago, still running here; B: alive; C: deleted 10 s ago.
    context.instance(A, { deleted: true, vm_state: 'deleted', deleted_at: '2026-12-02T02:04:05Z' }, POWER_STATE.RUNNING);
    context.instance(B, {}, POWER_STATE.RUNNING);
    context.instance(C, { deleted: true, vm_state: 'deleted', deleted_at: '2026-12-02T03:03:55Z' }, POWER_STATE.RUNNING);
    return context;
  }

  test('reap (the default): the domains of deleted instances destroyed with their files, as _shutdown_instance', async () => {
    const { trail, conductor, driver, sync } = zombies();
    await sync.cleanupRunningDeleted();
    expect(trail).toEqual(['InstanceList.get_by_filters', 'driver.destroy', 'VirtualInterface.delete_by_instance_uuid', 'driver.destroy', 'VirtualInterface.delete_by_instance_uuid']);
    const list = conductor.calls[0]!;
    expect(list.args).toEqual([{ deleted: true, soft_deleted: false, uuid: [A, B, C] }]);
    expect(list.kwargs).toEqual({ use_slave: true });
    expect(list.context).toMatchObject({ is_admin: true, read_deleted: 'yes' });
    expect(conductor.calls.filter((call) => call.what.startsWith('VirtualInterface')).map((call) => call.args)).toEqual([[A], [C]]);
    expect([...driver.states.keys()]).toEqual([B]);
  });

  test('running_deleted_instance_timeout spares the recently deleted', async () => {
    const { driver, sync } = zombies({ timeoutS: 60 });
    await sync.cleanupRunningDeleted();
    expect([...driver.states.keys()].sort()).toEqual([B, C]);
  });

  test('shutdown powers them off at once; log and noop leave them', async () => {
    const shutdown = zombies({ action: 'shutdown' });
    await shutdown.sync.cleanupRunningDeleted();
    expect(shutdown.trail.slice(1)).toEqual(['driver.powerOff {"timeoutS":0,"retryIntervalS":0}', 'driver.powerOff {"timeoutS":0,"retryIntervalS":0}']);
    expect(shutdown.driver.states.get(A)).toBe(POWER_STATE.SHUTDOWN);

    const log = zombies({ action: 'log' });
    await log.sync.cleanupRunningDeleted();
    expect(log.trail).toEqual(['InstanceList.get_by_filters']);

    const noop = zombies({ action: 'noop' });
    await noop.sync.cleanupRunningDeleted();
    expect(noop.trail).toEqual([]);
  });

  test('one reap failing leaves the others; each goes through perInstance', async () => {
    const { failures, driver, sync } = zombies();
    const seen: string[] = [];
    await sync.cleanupRunningDeleted(async (uuid, work) => {
      seen.push(uuid);
      if (uuid === A) failures.set('driver.destroy', hostError('cannot undefine', false));
      else failures.clear();
      await work();
    });
    expect(seen).toEqual([A, C]);
    expect([...driver.states.keys()]).toEqual([A, B]);
  });

  test('no domain on the host: Nova is not asked', async () => {
    const { trail, sync } = setup();
    await sync.cleanupRunningDeleted();
    expect(trail).toEqual([]);
  });
});
