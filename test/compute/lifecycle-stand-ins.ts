/**
 * Stand-ins for the lifecycle's unit tests: nova-conductor with a database of instance rows (saves checked
 * against expected_task_state as Nova's instance_update checks them; InstanceNotFound for a destroyed row),
 * an InstanceDriver with one power state per instance, placement and the compute node keeper. Every call of
 * every stand-in goes to one trail, so that a test reads the whole sequence in order. Also Nova's own
 * instance to cast (novaCast) and a NovaLifecycle on the stand-ins (setupLifecycle).
 */
import { decodeBody } from '../../src/bus/oslo-envelope.js';
import { RpcCallError } from '../../src/bus/rpc-call-error.js';
import { ConductorApi, type RpcCaller } from '../../src/conductor/conductor-api.js';
import { POWER_STATE, type InstanceDriver, type PowerOffOptions, type PowerState, type RebootType } from '../../src/compute/driver.js';
import { NovaLifecycle, type LifecycleNotification } from '../../src/compute/lifecycle.js';
import { getLogger } from '../../src/log.js';
import type { InstanceCast } from '../../src/nova/compute-casts.js';
import { WireObject } from '../../src/nova/wire-object.js';
import { INSTANCE_UUID } from '../nova/nova-scenarios.js';
import { novaWireBody } from '../nova/wire-bodies.js';

export const HOST = 'compute-1';

export function remoteError(className: string, message = className): RpcCallError {
  return new RpcCallError('RemoteError', 'object_action to conductor', message, { module: 'nova.exception', className, message, args: [], kwargs: {} });
}

export interface Row {
  uuid: string;
  id: number;
  host: string | null;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  /** Destroyed (Instance.destroy): read only with read_deleted "yes", saved never. */
  deleted?: boolean;
  deleted_at?: string;
}

export interface ConductorCall {
  what: string;
  args: readonly unknown[];
  kwargs: Record<string, unknown>;
  context: Record<string, unknown>;
  /** For an object's method: the fields it sends as changed, with their values. */
  changes?: Record<string, unknown>;
}

/** A failure injected into the stand-ins: the call named `what` (e.g. "Instance.save", "driver.reboot") throws. */
export type Failures = Map<string, Error>;

/** nova-conductor, at the ConductorApi's interface. */
export class Conductor implements Pick<ConductorApi, 'classAction' | 'objectAction'> {
  readonly calls: ConductorCall[] = [];
  readonly rows = new Map<string, Row>();
  /** What Instance.get_by_uuid answers for an instance: its primitive with every joined field (deleted rows too). */
  readonly loadable = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly trail: string[],
    private readonly failures: Failures,
  ) {}

  add(row: Row): Row {
    this.rows.set(row.uuid, row);
    return row;
  }

  async classAction(objName: string, objMethod: string, args: readonly unknown[], kwargs: Record<string, unknown> = {}, context: Record<string, unknown> = {}): Promise<unknown> {
    const what = `${objName}.${objMethod}`;
    this.record({ what, args, kwargs, context });
    if (what === 'Instance.get_by_uuid') {
      const primitive = this.loadable.get(args[0] as string);
      if (primitive === undefined) throw remoteError('InstanceNotFound', `Instance ${String(args[0])} could not be found.`);
      return WireObject.fromPrimitive(primitive, 'Instance.get_by_uuid');
    }
    if (what === 'InstanceList.get_by_host') return instanceList([...this.rows.values()].filter((row) => !row.deleted && row.host === args[0]));
    if (what === 'InstanceList.get_by_filters') {
      const filters = args[0] as { deleted: boolean; uuid: string[] };
      const readDeleted = context['read_deleted'] === 'yes';
      return instanceList([...this.rows.values()].filter((row) => filters.uuid.includes(row.uuid) && Boolean(row.deleted) === filters.deleted && (readDeleted || !row.deleted)));
    }
    return null;
  }

  async objectAction(object: WireObject, objMethod: string, args: readonly unknown[] = [], kwargs: Record<string, unknown> = {}, context: Record<string, unknown> = {}): Promise<unknown> {
    const primitive = object.toPrimitive();
    const data = primitive['nova_object.data'] as Record<string, unknown>;
    const changed = (primitive['nova_object.changes'] as string[] | undefined) ?? [];
    const what = `${object.objName}.${objMethod}`;
    this.record({ what, args, kwargs, context, changes: Object.fromEntries(changed.map((field) => [field, data[field]])) });
    if (object.objName === 'Instance') {
      const row = this.rows.get(data['uuid'] as string);
      if (row === undefined || row.deleted) throw remoteError('InstanceNotFound', `Instance ${String(data['uuid'])} could not be found.`);
      if (objMethod === 'save') this.save(row, data, changed, kwargs['expected_task_state']);
      if (objMethod === 'destroy') row.deleted = true;
      if (objMethod === 'refresh') {
        const { host, vm_state, task_state, power_state } = row;
        object.applyUpdates({ host, vm_state, task_state, power_state }, 'refresh');
        return null;
      }
    }
    object.applyUpdates({}, `${what} updates`);
    return null;
  }

  private record(call: ConductorCall): void {
    this.calls.push(call);
    // An Instance's changes are the story; a fault's text is checked where it matters.
    this.trail.push(describe(call.what, call.what.startsWith('Instance.') ? call.changes : undefined, call.kwargs));
    const failure = this.failures.get(call.what);
    if (failure !== undefined) throw failure;
  }

  /** db.instance_update: expected_task_state checked, UnexpectedDeletingTaskStateError while deleting. */
  private save(row: Row, data: Record<string, unknown>, changed: string[], expected: unknown): void {
    if (expected !== undefined) {
      const allowed = Array.isArray(expected) ? expected : [expected];
      if (!allowed.includes(row.task_state)) {
        throw remoteError(row.task_state === 'deleting' ? 'UnexpectedDeletingTaskStateError' : 'UnexpectedTaskStateError', `Unexpected task state: expecting ${JSON.stringify(allowed)} but the actual state is ${String(row.task_state)}`);
      }
    }
    for (const field of ['host', 'vm_state', 'task_state', 'power_state'] as const) {
      if (changed.includes(field)) (row as unknown as Record<string, unknown>)[field] = data[field];
    }
  }
}

function describe(what: string, changes: Record<string, unknown> | undefined, kwargs: Record<string, unknown>): string {
  const expected = kwargs['expected_task_state'];
  return [what, changes && Object.keys(changes).length > 0 ? JSON.stringify(changes) : '', expected === undefined ? '' : `expected ${JSON.stringify(expected)}`]
    .filter((part) => part !== '')
    .join(' ');
}

function instanceList(rows: Row[]): WireObject {
  return new WireObject('InstanceList', {
    objects: rows.map((row) => {
      const instance = new WireObject('Instance', { uuid: row.uuid, id: row.id, host: row.host, vm_state: row.vm_state, task_state: row.task_state, power_state: row.power_state, deleted_at: row.deleted_at ?? null });
      instance.resetChanges();
      return instance;
    }),
  });
}

/** libvirt as the driver shows it: a power state per instance (none: no domain). */
export class Driver implements InstanceDriver {
  readonly states = new Map<string, PowerState>();
  /** Power states the next powerState calls answer before the real one, for a guest that changes meanwhile. */
  readonly answers: PowerState[] = [];

  constructor(
    private readonly trail: string[],
    private readonly failures: Failures,
  ) {}

  async destroy(uuid: string): Promise<void> {
    this.record('destroy');
    this.states.delete(uuid);
  }

  async powerOff(uuid: string, options: PowerOffOptions): Promise<void> {
    this.record('powerOff', JSON.stringify(options));
    if (this.states.has(uuid)) this.states.set(uuid, POWER_STATE.SHUTDOWN);
  }

  async powerOn(uuid: string): Promise<void> {
    this.record('powerOn');
    this.states.set(uuid, POWER_STATE.RUNNING);
  }

  async reboot(uuid: string, type: RebootType): Promise<void> {
    this.record('reboot', type);
    this.states.set(uuid, POWER_STATE.RUNNING);
  }

  async consoleOutput(): Promise<Buffer> {
    return Buffer.alloc(0);
  }

  /** Not on the trail: Nova reads it freely; a test that cares asks `answers`. Fails as "driver.powerState <uuid>". */
  async powerState(uuid: string): Promise<PowerState> {
    const failure = this.failures.get(`driver.powerState ${uuid}`);
    if (failure !== undefined) throw failure;
    return this.answers.shift() ?? this.states.get(uuid) ?? POWER_STATE.NOSTATE;
  }

  async listInstanceUuids(): Promise<string[]> {
    return [...this.states.keys()];
  }

  private record(method: string, detail?: string): void {
    this.trail.push(`driver.${method}${detail === undefined ? '' : ` ${detail}`}`);
    const failure = this.failures.get(`driver.${method}`);
    if (failure !== undefined) throw failure;
  }
}

/** An error of the host, transient or not as libvirt's errors say. */
export function hostError(message: string, transient: boolean): Error {
  return Object.assign(new Error(message), { name: 'LibvirtError', transient });
}

export const NOW = new Date('2026-12-02T03:04:05.678Z');

/**
 * The columns an Instance read from the database has and the build's cast (Instance.create() in Python, no
 * database) lacks: nova-api's casts carry them, and a notification's payload reads them.
 */
const DATABASE_COLUMNS = { updated_at: '2024-05-01T12:00:05Z', terminated_at: null, deleted_at: null, progress: 0, auto_disk_config: false };

export interface NovaCast {
  /** The request context of Nova's cast, as the lifecycle's casts carry it. */
  context: Record<string, unknown>;
  /**
   * The cast of an operation on Nova's instance (INSTANCE_UUID) on HOST, as nova-api sends it (every
   * database column), with `data` over the instance's fields and the `leftOut` ones unset.
   */
  castOf(data?: Record<string, unknown>, leftOut?: readonly string[]): InstanceCast;
}

/** Nova's Instance and request context, made by Nova's own code (the build cast of test/helpers/nova_wire_body.py). */
export async function novaCast(): Promise<NovaCast> {
  const wire = await novaWireBody('full', '6.0');
  const decoded = decodeBody(wire.body, wire.content_type);
  if (decoded.kind !== 'oslo') throw new Error('expected an oslo envelope');
  const novaInstance = decoded.message.args['instance'] as Record<string, unknown>;
  const { context } = decoded.message;
  return {
    context,
    castOf: (data = {}, leftOut = []) => {
      const instance = JSON.parse(JSON.stringify(novaInstance)) as Record<string, Record<string, unknown>>;
      const fields = Object.assign(instance['nova_object.data']!, DATABASE_COLUMNS, { host: HOST, node: HOST, ...data });
      for (const field of leftOut) delete fields[field];
      return { uuid: INSTANCE_UUID, instance, context };
    },
  };
}

/**
 * NovaLifecycle on the stand-ins, every call on one trail, with a row for INSTANCE_UUID (`row` over an active,
 * running instance on HOST) and its domain running. `conductor`: an RpcCaller under a real ConductorApi instead
 * of the Conductor stand-in. `notify`: false for none (notifications off), a function to see each notification
 * as it is sent (what it returns is awaited, as the lifecycle awaits its notify).
 */
export function setupLifecycle(
  row: Partial<Row>,
  options: { conductor?: RpcCaller; notify?: false | ((notification: LifecycleNotification) => Promise<void> | void) } = {},
) {
  const trail: string[] = [];
  const failures: Failures = new Map();
  const conductor = new Conductor(trail, failures);
  const stored = conductor.add({ uuid: INSTANCE_UUID, id: 1234, host: HOST, vm_state: 'active', task_state: null, power_state: POWER_STATE.RUNNING, ...row });
  const driver = new Driver(trail, failures);
  driver.states.set(INSTANCE_UUID, POWER_STATE.RUNNING);
  const notifications: LifecycleNotification[] = [];
  const lifecycle = new NovaLifecycle({
    conductor: options.conductor === undefined ? conductor : new ConductorApi(options.conductor),
    driver,
    placement: {
      deleteAllocations: async (consumer) => {
        trail.push(`DELETE /allocations/${consumer}`);
        const failure = failures.get('placement');
        if (failure !== undefined) throw failure;
        return true;
      },
    },
    nodes: { update: async () => (trail.push('ComputeNode update'), null as never) },
    network: {
      readCache: async () => (trail.push('InstanceInfoCache.get_by_instance_uuid'), '[]'),
      deallocate: async () => void trail.push('deallocate_for_instance'),
    },
    host: HOST,
    shutdownTimeoutS: 60,
    shutdownRetryIntervalS: 10,
    log: getLogger('test'),
    ...(options.notify === false
      ? {}
      : {
          notify: (notification: LifecycleNotification) => {
            notifications.push(notification);
            trail.push(`notify ${notification.action}.${notification.phase}`);
            return options.notify ? options.notify(notification) : undefined;
          },
        }),
    now: () => NOW,
  });
  return { trail, failures, conductor, row: stored, driver, notifications, lifecycle };
}
