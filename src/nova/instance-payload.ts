/**
 * Nova's InstancePayload (nova/notifications/objects/instance.py, 1.8 in Nova 26) with what it nests
 * (FlavorPayload 1.4, IpPayload 1.0, ExceptionPayload 1.1): the part every instance.* notification of a compute
 * shares, as a NovaObject primitive. InstanceActionPayload 1.8 (instance.<action>.<phase>: InstancePayload and a
 * fault) is made here from an Instance as the casts and nova-conductor hand it over (a WireObject);
 * InstanceCreatePayload (bus/instance-create-payload.ts) from what a SpawnRequest knows.
 *
 * InstancePayload.__init__ reads the Instance's network info (info_cache), flavor, system_metadata
 * (locked_reason) and the fields of its SCHEMA. Nova lazy-loads any of them the Instance lacks
 * (obj_load_attr); INSTANCE_PAYLOAD_READS names them so that the compute layer, which has the conductor, loads
 * them first. Whatever is still unset here is null where the payload field is nullable and left out (unset,
 * which obj_from_primitive accepts) where it is not, as populate_schema leaves an unloadable field.
 */
import { hydrateNetworkInfo } from './network-model.js';
import { parseJsonField } from './json-fields.js';
import type { Vif } from './spawn-request.js';
import { novaDateTime, WireObject } from './wire-object.js';

export const INSTANCE_ACTION_PAYLOAD_VERSION = '1.8';

/** A notification payload as obj_to_primitive writes it. */
export interface PayloadPrimitive {
  'nova_object.name': string;
  'nova_object.namespace': 'nova';
  'nova_object.version': string;
  'nova_object.data': Record<string, unknown>;
}

export function payloadPrimitive(name: string, version: string, data: Record<string, unknown>): PayloadPrimitive {
  return { 'nova_object.name': name, 'nova_object.namespace': 'nova', 'nova_object.version': version, 'nova_object.data': data };
}

/** ExceptionPayload: what failed, in Nova's words (the exception's class name and message). */
export interface NotificationFault {
  module_name: string;
  function_name: string;
  exception: string;
  exception_message: string;
  traceback: string;
}

export function exceptionPayload(fault: NotificationFault | null): PayloadPrimitive | null {
  return fault === null ? null : payloadPrimitive('ExceptionPayload', '1.1', { ...fault });
}

/** The request context's part in a payload; any other keys are ignored. */
export interface InitiatorContext {
  request_id?: unknown;
  user_id?: unknown;
  project_id?: unknown;
}

/** InstancePayload.__init__: request_id only for a context with a user and project (not a periodic task's). */
export function initiator(context: InitiatorContext): { request_id: string | null; action_initiator_user: string | null; action_initiator_project: string | null } {
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  const user = text(context.user_id);
  const project = text(context.project_id);
  return { request_id: user && project ? text(context.request_id) : null, action_initiator_user: user, action_initiator_project: project };
}

/**
 * InstancePayload.SCHEMA, in Nova's order: each payload field, the Instance field it is read from, and
 * how the payload field types it (its nullability; the enums and dates coerced as Nova's fields coerce).
 */
type Kind = 'value' | 'date' | 'power_state' | 'disk_config';
const SCHEMA: readonly (readonly [payload: string, instance: string, nullable: boolean, kind: Kind])[] = [
  ['uuid', 'uuid', false, 'value'],
  ['user_id', 'user_id', true, 'value'],
  ['tenant_id', 'project_id', true, 'value'],
  ['reservation_id', 'reservation_id', true, 'value'],
  ['display_name', 'display_name', true, 'value'],
  ['display_description', 'display_description', true, 'value'],
  ['host_name', 'hostname', true, 'value'],
  ['host', 'host', true, 'value'],
  ['node', 'node', true, 'value'],
  ['os_type', 'os_type', true, 'value'],
  ['architecture', 'architecture', true, 'value'],
  ['availability_zone', 'availability_zone', true, 'value'],
  ['image_uuid', 'image_ref', true, 'value'],
  ['key_name', 'key_name', true, 'value'],
  ['kernel_id', 'kernel_id', true, 'value'],
  ['ramdisk_id', 'ramdisk_id', true, 'value'],
  ['created_at', 'created_at', true, 'date'],
  ['launched_at', 'launched_at', true, 'date'],
  ['terminated_at', 'terminated_at', true, 'date'],
  ['deleted_at', 'deleted_at', true, 'date'],
  ['updated_at', 'updated_at', true, 'date'],
  ['state', 'vm_state', true, 'value'],
  ['power_state', 'power_state', true, 'power_state'],
  ['task_state', 'task_state', true, 'value'],
  ['progress', 'progress', true, 'value'],
  ['metadata', 'metadata', false, 'value'],
  ['locked', 'locked', false, 'value'],
  ['auto_disk_config', 'auto_disk_config', false, 'disk_config'],
];

/** The Instance fields InstancePayload reads: its SCHEMA's, the network info, the flavor and the system metadata. */
export const INSTANCE_PAYLOAD_READS: readonly string[] = [...SCHEMA.map(([, field]) => field), 'info_cache', 'flavor', 'system_metadata'];

/** Of those, the ones Instance.get_by_uuid loads only when named in expected_attrs; the rest are its columns. */
export const INSTANCE_PAYLOAD_JOINED: readonly string[] = ['metadata', 'system_metadata', 'info_cache', 'flavor'];

/** fields.InstancePowerState: the enum's values by power_state number (the Instance's). */
const POWER_STATES = ['pending', 'running', '_unused', 'paused', 'shutdown', '_unused', 'crashed', 'suspended'];

function coerce(kind: Kind, value: unknown): unknown {
  if (value === null) return null;
  switch (kind) {
    case 'date': {
      // DateTimeField: the Instance's isotime text, written again as the payload's field writes it.
      const date = typeof value === 'string' ? new Date(value) : null;
      return date === null || Number.isNaN(date.getTime()) ? value : novaDateTime(date);
    }
    case 'power_state':
      return typeof value === 'number' ? (POWER_STATES[value] ?? value) : value;
    case 'disk_config':
      return value ? 'AUTO' : 'MANUAL';
    default:
      return value;
  }
}

/** A field of a Flavor by name: its value, undefined when unset. */
export type FlavorSource = (field: string) => unknown;

/** FlavorPayload 1.4's fields (SCHEMA: all read from the Flavor of the same name) and their nullability. */
const FLAVOR_FIELDS: readonly (readonly [field: string, nullable: boolean])[] = [
  ['flavorid', true],
  ['memory_mb', true],
  ['vcpus', true],
  ['root_gb', true],
  ['ephemeral_gb', true],
  ['name', false],
  ['swap', false],
  ['rxtx_factor', true],
  ['vcpu_weight', true],
  ['disabled', false],
  ['is_public', false],
  ['extra_specs', true],
  ['projects', true],
  ['description', true],
];

export function flavorPayload(flavor: FlavorSource): PayloadPrimitive {
  return payloadPrimitive('FlavorPayload', '1.4', schemaData(FLAVOR_FIELDS.map(([field, nullable]) => [field, nullable, flavor(field)])));
}

/** populate_schema: a set value as is; an unset one null where nullable, else left out. */
function schemaData(fields: readonly (readonly [field: string, nullable: boolean, value: unknown])[]): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [field, nullable, value] of fields) {
    if (value !== undefined) data[field] = value;
    else if (nullable) data[field] = null;
  }
  return data;
}

/** oslo's String coercion of a DictOfStringsField's values: str() of numbers and booleans. */
function pythonString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** IpPayload.from_network_info: one entry per fixed IP of each VIF. */
export function ipPayloads(networkInfo: readonly Vif[]): PayloadPrimitive[] {
  return networkInfo.flatMap((vif) => {
    // A null value would not validate as a DictOfStringsField's (Nova's own payload would fail on it).
    const meta = Object.fromEntries(
      Object.entries(vif.meta)
        .filter(([, value]) => value !== null && value !== undefined)
        .map(([key, value]) => [key, pythonString(value)]),
    );
    return vif.network.subnets.flatMap((subnet) =>
      subnet.ips.map((ip) =>
        payloadPrimitive('IpPayload', '1.0', {
          // StringField, not nullable: Nova's own payload would not validate without a label either.
          label: vif.network.label ?? '',
          mac: vif.address,
          meta,
          port_uuid: vif.id,
          version: ip.version,
          address: ip.address,
          device_name: vif.devname,
        }),
      ),
    );
  });
}

/** What InstancePayload is made of, whatever the instance was read from. */
export interface InstancePayloadSource {
  /** An Instance field's primitive by name (dates as isotime text, power_state as its number); undefined when unset. */
  field(name: string): unknown;
  /** The Instance's flavor; undefined when it has none (the payload's flavor is then left out). */
  flavor: FlavorSource | undefined;
  networkInfo: readonly Vif[];
  lockedReason: string | null;
  /** BlockDevicePayload list: the volume BDMs when the manager passes bdms, else null ([notifications] bdms_in_notifications off). */
  blockDevices: PayloadPrimitive[] | null;
  context: InitiatorContext;
}

/** InstancePayload's data, in Nova's field order. */
export function instancePayloadData(source: InstancePayloadSource): Record<string, unknown> {
  const data = schemaData(SCHEMA.map(([payload, field, nullable, kind]) => {
    const value = source.field(field);
    return [payload, nullable, value === undefined ? undefined : coerce(kind, value)];
  }));
  return {
    ...data,
    ...(source.flavor === undefined ? {} : { flavor: flavorPayload(source.flavor) }),
    ip_addresses: ipPayloads(source.networkInfo),
    block_devices: source.blockDevices,
    ...initiator(source.context),
    locked_reason: source.lockedReason,
  };
}

/**
 * InstanceActionPayload(context, instance, fault, bdms), the payload of compute_utils.notify_about_instance_action,
 * from the Instance as this compute holds it.
 */
export function instanceActionPayload(
  instance: WireObject,
  options: { context: InitiatorContext; fault: NotificationFault | null; blockDevices: PayloadPrimitive[] | null },
): PayloadPrimitive {
  const flavor = instance.get('flavor');
  const systemMetadata = instance.get('system_metadata');
  const lockedReason = typeof systemMetadata === 'object' && systemMetadata !== null && !Array.isArray(systemMetadata) ? (systemMetadata as Record<string, unknown>)['locked_reason'] : null;
  const data = instancePayloadData({
    field: (name) => instance.get(name),
    flavor: flavor instanceof WireObject ? (name) => flavor.get(name) : undefined,
    networkInfo: networkInfoOf(instance),
    lockedReason: typeof lockedReason === 'string' ? lockedReason : null,
    blockDevices: options.blockDevices,
    context: options.context,
  });
  return payloadPrimitive('InstanceActionPayload', INSTANCE_ACTION_PAYLOAD_VERSION, { ...data, fault: exceptionPayload(options.fault) });
}

/** Instance.get_network_info: the info cache's VIFs (its network_info as JSON text or as the list); none without one. */
function networkInfoOf(instance: WireObject): Vif[] {
  const cache = instance.get('info_cache');
  const networkInfo = cache instanceof WireObject ? (cache.get('network_info') ?? null) : null;
  if (networkInfo === null) return [];
  const path = 'instance.info_cache.network_info';
  return hydrateNetworkInfo(typeof networkInfo === 'string' ? parseJsonField(networkInfo, path) : networkInfo, path);
}
