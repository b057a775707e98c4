/**
 * Stand-ins for the lifecycle's unit tests: nova-conductor with a database of instance rows (saves checked
 * against expected_task_state as Nova's instance_update checks them; InstanceNotFound for a destroyed row),
 * an InstanceDriver with one power state per instance, placement and the compute node keeper. Every call of
 * every stand-in goes to one trail, so that a test reads the whole sequence in order.
 */
import { RpcCallError } from '../../src/bus/rpc-call-error.js';
import type { ConductorApi } from '../../src/conductor/conductor-api.js';
import { POWER_STATE, type InstanceDriver, type PowerOffOptions, type PowerState, type RebootType } from '../../src/compute/driver.js';
import { WireObject } from '../../src/nova/wire-object.js';

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
