/**
 * NovaLifecycle's sequences, as a pure unit test: the Instance of a cast made by Nova's own code
 * (test/helpers/nova_wire_body.py), and stand-ins for the conductor (instance rows whose saves are checked
 * against expected_task_state as Nova's database checks them), the driver, placement and the compute node,
 * all writing to one trail.
 */
import { RpcCallError } from '../../src/bus/rpc-call-error.js';
import { POWER_STATE } from '../../src/compute/driver.js';
import { OperationStopped, UnexpectedTaskState } from '../../src/compute/instance-bookkeeping.js';
import { LIFECYCLE_EVENTS, type LifecycleNotification } from '../../src/compute/lifecycle.js';
import { OperationFailed } from '../../src/compute/operation-failed.js';
import type { RpcCaller } from '../../src/conductor/conductor-api.js';
import type { InstanceCast } from '../../src/nova/compute-casts.js';
import { WireObject } from '../../src/nova/wire-object.js';
import { INSTANCE_UUID } from '../nova/nova-scenarios.js';
import { Conductor, HOST, hostError, novaCast, remoteError, setupLifecycle as setup, type NovaCast } from './lifecycle-stand-ins.js';

const START = 'InstanceActionEvent.event_start';
const FINISH = 'InstanceActionEvent.event_finish_with_failure';

let nova: NovaCast;
let novaContext: Record<string, unknown>;

beforeAll(async () => {
  nova = await novaCast();
  novaContext = nova.context;
}, 60_000);

/** The cast of an operation on Nova's instance, on this host, with `data` over the instance's fields. */
function castOf(data: Record<string, unknown> = {}, leftOut: readonly string[] = []): InstanceCast {
  return nova.castOf(data, leftOut);
}

function eventCalls(conductor: Conductor) {
  return conductor.calls.filter((call) => call.what.startsWith('InstanceActionEvent.'));
}

describe('terminate', () => {
  /** _delete_instance up to the save: what a terminate does whatever Nova's database says. */
  const SHUTDOWN = [START, 'notify delete.start', 'notify shutdown.start', 'driver.destroy', 'InstanceInfoCache.get_by_instance_uuid', 'deallocate_for_instance', 'VirtualInterface.delete_by_instance_uuid', 'notify shutdown.end'];

  test("Nova's sequence: destroyed on the host, saved deleted, usage and allocations, console tokens, Instance.destroy", async () => {
    const { trail, conductor, row, driver, lifecycle } = setup({ task_state: 'deleting' });
    await lifecycle.terminate(castOf({ task_state: 'deleting' }));
    expect(trail).toEqual([
      ...SHUTDOWN,
      'Instance.save {"power_state":0,"task_state":null,"terminated_at":"2026-12-02T03:04:05Z","vm_state":"deleted"}',
      'ComputeNode update',
      `DELETE /allocations/${INSTANCE_UUID}`,
      'ConsoleAuthToken.clean_console_auths_for_instance',
      'Instance.destroy',
      'notify delete.end',
      FINISH,
    ]);
    const [start, finish] = eventCalls(conductor);
    expect(start!.args).toEqual([INSTANCE_UUID, 'compute_terminate_instance']);
    expect(start!.kwargs).toEqual({ want_result: false, host: HOST });
    expect(finish!.kwargs).toEqual({ exc_val: null, exc_tb: null, want_result: false });
    // Every call carries the request context of the cast: the event finds the action nova-api started by it.
    expect(new Set(conductor.calls.map((call) => call.context['request_id']))).toEqual(new Set([novaContext['request_id']]));
    expect(row).toMatchObject({ vm_state: 'deleted', task_state: null, deleted: true });
    expect(driver.states.has(INSTANCE_UUID)).toBe(false);
  });

  test('an instance already gone from Nova: the domain destroyed and the allocations deleted all the same', async () => {
    const { trail, conductor, lifecycle } = setup({ task_state: 'deleting', deleted: true });
    await expect(lifecycle.terminate(castOf())).resolves.toBeUndefined();
    expect(trail).toEqual([
      ...SHUTDOWN,
      expect.stringMatching(/^Instance\.save /),
      'ComputeNode update',
      `DELETE /allocations/${INSTANCE_UUID}`,
      FINISH,
    ]);
    expect(eventCalls(conductor)[1]!.kwargs).toMatchObject({ exc_val: null });
  });

  test('gone between the save and Instance.destroy: finished, no ERROR', async () => {
    const { trail, failures, conductor, lifecycle } = setup({ task_state: 'deleting' });
    failures.set('Instance.destroy', remoteError('InstanceNotFound'));
    await lifecycle.terminate(castOf());
    expect(trail.slice(-3)).toEqual(['ConsoleAuthToken.clean_console_auths_for_instance', 'Instance.destroy', FINISH]);
    expect(conductor.calls.some((call) => call.what === 'InstanceFault.create')).toBe(false);
  });

  test('placement away on an attempt with more to come: transient, nothing recorded; the next attempt completes without a second event', async () => {
    const { trail, failures, conductor, row, lifecycle } = setup({ task_state: 'deleting' });
    failures.set('placement', Object.assign(new Error('[placement] DELETE /allocations/x: HTTP 503'), { retryable: true }));
    const failure = (await lifecycle.terminate(castOf(), { number: 1, last: false }).catch((error: unknown) => error)) as OperationFailed;
    expect(failure).toBeInstanceOf(OperationFailed);
    expect(failure.transient).toBe(true);
    expect(failure.message).toMatch(/^terminate of instance .* failed at DELETE \/allocations: /);
    expect(trail.at(-1)).toBe(`DELETE /allocations/${INSTANCE_UUID}`);
    expect(row.deleted).toBeUndefined();

    failures.clear();
    trail.length = 0;
    await lifecycle.terminate(castOf(), { number: 2, last: true });
    expect(trail[0]).toBe('notify delete.start');
    expect(trail.at(-1)).toBe(FINISH);
    expect(row.deleted).toBe(true);
    expect(eventCalls(conductor).map((call) => call.what)).toEqual([START, FINISH]);
  });

  test('a final failure: ERROR, the fault, the event finished with it, the task state reverted (in that order)', async () => {
    const { trail, failures, conductor, row, lifecycle } = setup({ task_state: 'deleting' });
    failures.set('driver.destroy', hostError('internal error: cannot undefine domain', false));
    const failure = (await lifecycle.terminate(castOf()).catch((error: unknown) => error)) as OperationFailed;
    expect(failure.transient).toBe(false);
    expect(failure.message).toBe(`terminate of instance ${INSTANCE_UUID} failed at destroy: LibvirtError: internal error: cannot undefine domain`);
    expect(trail.slice(-4)).toEqual(['Instance.save {"vm_state":"error"}', 'InstanceFault.create', FINISH, 'Instance.save {"task_state":null}']);
    const fault = conductor.calls.find((call) => call.what === 'InstanceFault.create')!;
    expect(fault.changes).toMatchObject({ host: HOST, instance_uuid: INSTANCE_UUID, code: 500, message: 'LibvirtError: internal error: cannot undefine domain' });
    expect(eventCalls(conductor)[1]!.kwargs).toMatchObject({ exc_val: fault.changes!['message'], exc_tb: expect.stringContaining('OperationFailed') });
    expect(row).toMatchObject({ vm_state: 'error', task_state: null });
    expect(row.deleted).toBeUndefined();
  });
});

describe('stop', () => {
  test('clean: powered off with shutdown_timeout and shutdown_retry_interval, saved stopped expecting powering-off', async () => {
    const { trail, conductor, row, lifecycle } = setup({ task_state: 'powering-off' });
    await lifecycle.stop(castOf(), true);
    expect(trail).toEqual([
      START,
      'notify power_off.start',
      'driver.powerOff {"timeoutS":60,"retryIntervalS":10}',
      'Instance.save {"power_state":4,"task_state":null,"vm_state":"stopped"} expected ["powering-off"]',
      'notify power_off.end',
      FINISH,
    ]);
    expect(eventCalls(conductor)[0]!.args).toEqual([INSTANCE_UUID, LIFECYCLE_EVENTS.stop]);
    expect(LIFECYCLE_EVENTS.stop).toBe('compute_stop_instance');
    expect(row).toMatchObject({ vm_state: 'stopped', task_state: null, power_state: POWER_STATE.SHUTDOWN });
  });

  test("the image's os_shutdown_timeout wins; not clean: off at once", async () => {
    const { trail, lifecycle } = setup({ task_state: 'powering-off' });
    await lifecycle.stop(castOf({ system_metadata: { image_os_shutdown_timeout: '30' } }), true);
    expect(trail).toContain('driver.powerOff {"timeoutS":30,"retryIntervalS":10}');
    const unclean = setup({ task_state: 'powering-off' });
    await unclean.lifecycle.stop(castOf(), false);
    expect(unclean.trail).toContain('driver.powerOff {"timeoutS":0,"retryIntervalS":0}');
  });

  test('a guest already off: None is expected too, so a stop whose task state another operation cleared completes', async () => {
    const { trail, driver, row, lifecycle } = setup({ task_state: null, vm_state: 'active' });
    driver.states.set(INSTANCE_UUID, POWER_STATE.SHUTDOWN);
    await lifecycle.stop(castOf(), true);
    expect(trail).toContain('Instance.save {"power_state":4,"task_state":null,"vm_state":"stopped"} expected ["powering-off",null]');
    expect(row.vm_state).toBe('stopped');
  });

  test('an instance being deleted meanwhile: stopped quietly, no fault, no task state reverted', async () => {
    const { trail, conductor, row, lifecycle } = setup({ task_state: 'deleting' });
    const failure = await lifecycle.stop(castOf(), true).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OperationStopped);
    expect((failure as OperationStopped).deleted).toBe(true);
    expect((failure as OperationStopped).transient).toBe(false);
    expect(trail.slice(-2)).toEqual([expect.stringMatching(/^Instance\.save .* expected \["powering-off"\]$/), FINISH]);
    expect(eventCalls(conductor)[1]!.kwargs['exc_val']).toMatch(/UnexpectedDeletingTaskStateError/);
    expect(conductor.calls.some((call) => call.what === 'InstanceFault.create')).toBe(false);
    expect(row.task_state).toBe('deleting');
  });

  test('a transient failure of the driver with attempts left: the instance stays powering-off; the retry finishes the one event', async () => {
    const { trail, failures, conductor, row, lifecycle } = setup({ task_state: 'powering-off' });
    failures.set('driver.powerOff', hostError('unable to connect to libvirtd', true));
    const failure = (await lifecycle.stop(castOf(), true, { number: 1, last: false }).catch((error: unknown) => error)) as OperationFailed;
    expect(failure.transient).toBe(true);
    expect(failure.step).toBe('power_off');
    expect(trail).toEqual([START, 'notify power_off.start', 'driver.powerOff {"timeoutS":60,"retryIntervalS":10}']);
    expect(row.task_state).toBe('powering-off');
    failures.clear();
    await lifecycle.stop(castOf(), true, { number: 2, last: true });
    expect(eventCalls(conductor).map((call) => call.what)).toEqual([START, FINISH]);
    expect(row.vm_state).toBe('stopped');
  });

  test('the same failure on the last attempt is final: fault, event with the error, task state reverted', async () => {
    const { trail, failures, row, lifecycle } = setup({ task_state: 'powering-off' });
    failures.set('driver.powerOff', hostError('unable to connect to libvirtd', true));
    await expect(lifecycle.stop(castOf(), true, { number: 5, last: true })).rejects.toMatchObject({ transient: true });
    expect(trail.slice(-3)).toEqual(['InstanceFault.create', FINISH, 'Instance.save {"task_state":null}']);
    expect(row).toMatchObject({ vm_state: 'active', task_state: null });
  });

  test('a lost conductor is transient', async () => {
    const { failures, lifecycle } = setup({ task_state: 'powering-off' });
    failures.set('Instance.save', new RpcCallError('ConnectionLost', 'object_action to conductor', 'the broker connection closed'));
    await expect(lifecycle.stop(castOf(), true, { number: 1, last: false })).rejects.toMatchObject({ transient: true, step: 'conductor' });
  });

  test('on the wire: the save sends only what stop changed, with expected_task_state', async () => {
    const sent: Record<string, unknown>[] = [];
    const rpc: RpcCaller = {
      call: async (_target, _context, method, args) => {
        if (method === 'object_action') sent.push(args);
        return method === 'object_action' ? [{}, null] : null;
      },
    };
    const { lifecycle } = setup({ task_state: 'powering-off' }, { conductor: rpc });
    await lifecycle.stop(castOf(), true);
    const [save] = sent as [{ objinst: Record<string, unknown>; objmethod: string; kwargs: Record<string, unknown> }];
    expect(save.objmethod).toBe('save');
    expect(save.objinst['nova_object.name']).toBe('Instance');
    expect(save.objinst['nova_object.changes']).toEqual(['power_state', 'task_state', 'vm_state']);
    expect(save.kwargs).toEqual({ expected_task_state: ['powering-off'] });
  });
});

describe('start', () => {
  test('powered on, saved active expecting powering-on', async () => {
    const { trail, driver, row, lifecycle } = setup({ vm_state: 'stopped', task_state: 'powering-on', power_state: POWER_STATE.SHUTDOWN });
    driver.states.set(INSTANCE_UUID, POWER_STATE.SHUTDOWN);
    await lifecycle.start(castOf());
    expect(trail).toEqual([
      START,
      'notify power_on.start',
      'driver.powerOn',
      'Instance.save {"power_state":1,"task_state":null,"vm_state":"active"} expected "powering-on"',
      'notify power_on.end',
      FINISH,
    ]);
    expect(row).toMatchObject({ vm_state: 'active', task_state: null, power_state: POWER_STATE.RUNNING });
  });

  test('preempted by another task: a fault and the event with the error, the other task state left alone', async () => {
    const { trail, conductor, row, lifecycle } = setup({ vm_state: 'stopped', task_state: 'rebooting_hard' });
    await expect(lifecycle.start(castOf())).rejects.toBeInstanceOf(UnexpectedTaskState);
    expect(trail.slice(-2)).toEqual(['InstanceFault.create', FINISH]);
    expect(conductor.calls.find((call) => call.what === 'InstanceFault.create')!.changes!['message']).toMatch(/Unexpected task state/);
    expect(row.task_state).toBe('rebooting_hard');
  });

  test('an instance deleted meanwhile stops quietly', async () => {
    const { conductor, lifecycle } = setup({ vm_state: 'stopped', task_state: 'powering-on', deleted: true });
    await expect(lifecycle.start(castOf())).rejects.toBeInstanceOf(OperationStopped);
    expect(conductor.calls.some((call) => call.what === 'InstanceFault.create')).toBe(false);
  });
});

describe('reboot', () => {
  test.each([
    ['SOFT', 'rebooting', ['rebooting', 'reboot_pending', 'reboot_started'], 'reboot_pending', 'reboot_started'],
    ['HARD', 'rebooting_hard', ['rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard'], 'reboot_pending_hard', 'reboot_started_hard'],
  ] as const)('%s: pending then started, each expecting the one before, then active', async (type, apiState, expected, pending, started) => {
    const { trail, conductor, row, lifecycle } = setup({ task_state: apiState });
    await lifecycle.reboot(castOf(), type);
    expect(trail).toEqual([
      START,
      'notify reboot.start',
      `Instance.save {"power_state":1,"task_state":"${pending}"} expected ${JSON.stringify(expected)}`,
      `Instance.save {"task_state":"${started}"} expected "${pending}"`,
      `driver.reboot ${type}`,
      'Instance.save {"power_state":1,"task_state":null,"vm_state":"active"}',
      'notify reboot.end',
      FINISH,
    ]);
    expect(eventCalls(conductor)[0]!.args).toEqual([INSTANCE_UUID, 'compute_reboot_instance']);
    expect(row).toMatchObject({ vm_state: 'active', task_state: null });
  });

  test('a reboot that fails with the guest still running: a fault and an error notification, then ACTIVE and a successful event', async () => {
    const { trail, failures, conductor, notifications, row, lifecycle } = setup({ task_state: 'rebooting' });
    failures.set('driver.reboot', hostError('guest agent did not answer', false));
    await lifecycle.reboot(castOf(), 'SOFT');
    expect(trail.slice(-6)).toEqual([
      'driver.reboot SOFT',
      'InstanceFault.create',
      'notify reboot.error',
      'Instance.save {"power_state":1,"task_state":null,"vm_state":"active"}',
      'notify reboot.end',
      FINISH,
    ]);
    expect(notifications.find((n) => n.phase === 'error')!.error).toMatchObject({ step: 'reboot' });
    expect(eventCalls(conductor)[1]!.kwargs['exc_val']).toBeNull();
    expect(row).toMatchObject({ vm_state: 'active', task_state: null });
  });

  test('a reboot that fails with the guest not running: ERROR, the fault, the event with the error, the task state reverted', async () => {
    const { trail, failures, driver, row, lifecycle } = setup({ task_state: 'rebooting_hard' });
    failures.set('driver.reboot', hostError('qemu exited', false));
    // Running when asked before the reboot, off after it failed.
    driver.answers.push(POWER_STATE.RUNNING, POWER_STATE.SHUTDOWN);
    await expect(lifecycle.reboot(castOf(), 'HARD')).rejects.toMatchObject({ step: 'reboot', transient: false });
    expect(trail.slice(-5)).toEqual(['driver.reboot HARD', 'Instance.save {"vm_state":"error"}', 'InstanceFault.create', FINISH, 'Instance.save {"task_state":null}']);
    expect(row).toMatchObject({ vm_state: 'error', task_state: null });
  });

  test('a reboot of an instance deleted before it started: stopped at the first save', async () => {
    const { trail, lifecycle } = setup({ task_state: 'deleting' });
    await expect(lifecycle.reboot(castOf(), 'SOFT')).rejects.toBeInstanceOf(OperationStopped);
    expect(trail).not.toContain('driver.reboot SOFT');
  });
});

describe('notifications', () => {
  /** What nova-api casts for a stop or a start (servers.py _get_instance): the metadata, no flavor, no info cache. */
  const API_LEFT_OUT = ['flavor', 'info_cache'];

  test("a stop cast as nova-api sends it: the flavor and info cache loaded once, as Nova's lazy load, and not saved as changes", async () => {
    const { trail, conductor, notifications, lifecycle } = setup({ task_state: 'powering-off' });
    conductor.loadable.set(INSTANCE_UUID, castOf({ task_state: 'powering-off' }).instance);
    await lifecycle.stop(castOf({ task_state: 'powering-off' }, API_LEFT_OUT), true);
    expect(trail).toEqual([
      START,
      'Instance.get_by_uuid',
      'notify power_off.start',
      'driver.powerOff {"timeoutS":60,"retryIntervalS":10}',
      'Instance.save {"power_state":4,"task_state":null,"vm_state":"stopped"} expected ["powering-off"]',
      'notify power_off.end',
      FINISH,
    ]);
    const load = conductor.calls.find((call) => call.what === 'Instance.get_by_uuid')!;
    expect(load.args).toEqual([INSTANCE_UUID]);
    expect(load.kwargs).toEqual({ expected_attrs: ['info_cache', 'flavor'] });
    // Instance.obj_load_attr reads with read_deleted "yes", in the request's context.
    expect(load.context).toMatchObject({ read_deleted: 'yes', request_id: novaContext['request_id'] });
    const [start, end] = notifications;
    expect((start!.instance.get('flavor') as WireObject).get('memory_mb')).toBe(4096);
    expect(end!.instance.get('info_cache')).toBeInstanceOf(WireObject);
    const save = conductor.calls.find((call) => call.what === 'Instance.save')!;
    expect(Object.keys(save.changes!).sort()).toEqual(['power_state', 'task_state', 'vm_state']);
  });

  test('without notify (notifications off) nothing is loaded for a payload', async () => {
    const { conductor, lifecycle } = setup({ task_state: 'powering-on' }, { notify: false });
    await lifecycle.start(castOf({ task_state: 'powering-on' }, API_LEFT_OUT));
    expect(conductor.calls.map((call) => call.what)).not.toContain('Instance.get_by_uuid');
  });

  test('a load that fails leaves the notification out, never the operation', async () => {
    const { trail, row, lifecycle } = setup({ task_state: 'powering-on' });
    await lifecycle.start(castOf({ task_state: 'powering-on' }, API_LEFT_OUT));
    expect(trail.filter((line) => line.startsWith('notify'))).toEqual([]);
    expect(trail.filter((line) => line === 'Instance.get_by_uuid')).toHaveLength(2);
    expect(row).toMatchObject({ vm_state: 'active', task_state: null });
  });

  test("each notification carries the instance as Nova's manager has it then, and the context it notifies with", async () => {
    const seen: { event: string; vm_state: unknown; task_state: unknown; power_state: unknown; roles: unknown; is_admin: unknown }[] = [];
    const record = (notification: LifecycleNotification): void => {
      const { instance, context } = notification;
      seen.push({
        event: `${notification.action}.${notification.phase}`,
        vm_state: instance.get('vm_state'),
        task_state: instance.get('task_state'),
        power_state: instance.get('power_state'),
        roles: context['roles'],
        is_admin: context['is_admin'],
      });
    };
    const { lifecycle } = setup({ task_state: 'rebooting' }, { notify: record });
    await lifecycle.reboot(castOf({ vm_state: 'active', task_state: 'rebooting', power_state: 1 }), 'SOFT');
    const user = { roles: novaContext['roles'], is_admin: novaContext['is_admin'] };
    const admin = { roles: [...(novaContext['roles'] as string[]), 'admin'], is_admin: true };
    expect(novaContext['roles']).not.toContain('admin');
    // _reboot_instance sets reboot_pending before it notifies, and notifies with its context elevated.
    expect(seen).toEqual([
      { event: 'reboot.start', vm_state: 'active', task_state: 'reboot_pending', power_state: 1, ...admin },
      { event: 'reboot.end', vm_state: 'active', task_state: null, power_state: 1, ...admin },
    ]);
    seen.length = 0;
    const deleting = setup({ task_state: 'deleting' }, { notify: record });
    await deleting.lifecycle.terminate(castOf({ vm_state: 'active', task_state: 'deleting', power_state: 1 }));
    // _shutdown_instance elevates its context; _delete_instance does not.
    expect(seen).toEqual([
      { event: 'delete.start', vm_state: 'active', task_state: 'deleting', power_state: 1, ...user },
      { event: 'shutdown.start', vm_state: 'active', task_state: 'deleting', power_state: 1, ...admin },
      { event: 'shutdown.end', vm_state: 'active', task_state: 'deleting', power_state: 1, ...admin },
      { event: 'delete.end', vm_state: 'deleted', task_state: null, power_state: 0, ...user },
    ]);
  });
});
