/**
 * The compute RPC API casts (and calls) of an instance's life after its build, as nova-api and the compute
 * itself send them (nova/compute/rpcapi.py, 5.0 to 6.1: the arguments read here are the same in all):
 * terminate_instance(instance, bdms), stop_instance(instance, clean_shutdown), start_instance(instance),
 * reboot_instance(instance, block_device_info, reboot_type), get_console_output(instance, tail_length),
 * external_instance_event(instances, events). The Instance travels on as the primitive it came as, for the
 * saves through nova-conductor; only its uuid is read here.
 */
import type { OsloMessage } from '../bus/oslo-envelope.js';
import { checkComputeVersion } from './build-and-run-instance.js';
import { InvalidComputeRequest } from './invalid-compute-request.js';
import { childPath, expectList, expectString, Fields } from './json-fields.js';
import { CANONICAL_UUID } from './validate.js';
import { MalformedNovaObject, WireObject } from './wire-object.js';

/** An instance as a cast names it: the Instance primitive and the caller's request context. */
export interface InstanceCast {
  uuid: string;
  /** The `instance` argument, an Instance 2.x primitive (WireObject.fromPrimitive reads it). */
  instance: Record<string, unknown>;
  /** The request context as it came (the `_context_*` keys). */
  context: Record<string, unknown>;
}

/** One event of external_instance_event (InstanceExternalEvent): network-vif-plugged and the like. */
export interface ExternalEvent {
  instance_uuid: string;
  name: string;
  status: string | null;
  tag: string | null;
}

export type LifecycleCast =
  | { method: 'terminate_instance'; target: InstanceCast }
  | { method: 'stop_instance'; target: InstanceCast; cleanShutdown: boolean }
  | { method: 'start_instance'; target: InstanceCast }
  | { method: 'reboot_instance'; target: InstanceCast; rebootType: 'SOFT' | 'HARD' }
  | { method: 'get_console_output'; target: InstanceCast; tailLength: number | null }
  | { method: 'external_instance_event'; targets: InstanceCast[]; events: ExternalEvent[] };

export const LIFECYCLE_METHODS: readonly LifecycleCast['method'][] = [
  'terminate_instance',
  'stop_instance',
  'start_instance',
  'reboot_instance',
  'get_console_output',
  'external_instance_event',
];

export function isLifecycleMethod(method: string): method is LifecycleCast['method'] {
  return (LIFECYCLE_METHODS as readonly string[]).includes(method);
}

/** The message as one of the lifecycle casts; InvalidComputeRequest naming the field that is wrong. */
export function lifecycleCastOf(message: OsloMessage): LifecycleCast {
  checkComputeVersion(message);
  const args = new Fields(message.args, '');
  const target = (): InstanceCast => instanceCast(args.required('instance'), 'instance', message.context);
  switch (message.method) {
    case 'terminate_instance':
      return { method: message.method, target: target() };
    case 'start_instance':
      return { method: message.method, target: target() };
    case 'stop_instance': {
      // clean_shutdown defaults to True in the manager's signature.
      const clean = args.raw('clean_shutdown') ?? true;
      if (typeof clean !== 'boolean') throw new InvalidComputeRequest('clean_shutdown', clean, 'must be true or false');
      return { method: message.method, target: target(), cleanShutdown: clean };
    }
    case 'reboot_instance': {
      const type = args.string('reboot_type');
      if (type !== 'SOFT' && type !== 'HARD') throw new InvalidComputeRequest('reboot_type', type, 'must be SOFT or HARD');
      return { method: message.method, target: target(), rebootType: type };
    }
    case 'get_console_output': {
      const tail = args.raw('tail_length') ?? null;
      if (tail !== null && !(typeof tail === 'number' && Number.isSafeInteger(tail) && tail >= 0)) {
        throw new InvalidComputeRequest('tail_length', tail, 'must be a whole number of lines or null');
      }
      return { method: message.method, target: target(), tailLength: tail };
    }
    case 'external_instance_event': {
      const targets = expectList(args.required('instances'), 'instances').map((item, index) => instanceCast(item, childPath('instances', index), message.context));
      const events = expectList(args.required('events'), 'events').map((item, index) => externalEvent(item, childPath('events', index)));
      return { method: message.method, targets, events };
    }
    default:
      throw new InvalidComputeRequest('method', message.method, `must be one of ${LIFECYCLE_METHODS.join(', ')}`);
  }
}

/** WireObject.fromPrimitive, its failure an InvalidComputeRequest naming where. */
function wireObject(value: unknown, path: string, expected: string): WireObject {
  try {
    return WireObject.fromPrimitive(value, path, expected);
  } catch (error) {
    if (error instanceof MalformedNovaObject) throw new InvalidComputeRequest(error.path, error.value, `is not a readable ${expected} primitive`);
    throw error;
  }
}

function instanceCast(value: unknown, path: string, context: Record<string, unknown>): InstanceCast {
  const instance = wireObject(value, path, 'Instance');
  return { uuid: expectUuid(instance.get('uuid'), childPath(path, 'uuid')), instance: value as Record<string, unknown>, context };
}

function externalEvent(value: unknown, path: string): ExternalEvent {
  const event = wireObject(value, path, 'InstanceExternalEvent');
  const text = (field: string): string | null => {
    const found = event.get(field) ?? null;
    return found === null ? null : expectString(found, childPath(path, field));
  };
  return { instance_uuid: expectUuid(event.get('instance_uuid'), childPath(path, 'instance_uuid')), name: expectString(event.get('name'), childPath(path, 'name')), status: text('status'), tag: text('tag') };
}

/** As a build's instance uuid: the canonical form instance directories and domains are named by. */
function expectUuid(value: unknown, path: string): string {
  const text = expectString(value, path);
  if (!CANONICAL_UUID.test(text)) throw new InvalidComputeRequest(path, value, 'is not a UUID in canonical form (lowercase 8-4-4-4-12 hex)');
  return text;
}
