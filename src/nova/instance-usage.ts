/**
 * The payload of Nova's legacy (unversioned) compute.instance.* notifications: compute_utils
 * notify_about_instance_usage, which is notifications.info_from_instance(context, instance, network_info,
 * populate_image_ref_url=True, **extra_usage_info) and, for an error, exception_to_dict(fault) over it. A
 * plain dict, as Nova's JsonPayloadSerializer writes it (datetimes as text, the exception as its repr).
 */
import type { NotificationFault } from './instance-payload.js';
import type { Vif } from './spawn-request.js';

/**
 * An Instance as info_from_instance reads it. The fields it reads beyond InstancePayload's (instance_type_id,
 * cell_name, access_ip_v4/v6) are columns every Instance from Nova's database has, so the casts carry them;
 * one unset anyway reads as null (Nova would lazy-load it).
 */
export interface UsageInstance {
  /** An Instance field's primitive by name (dates as isotime text); undefined when unset. */
  field(name: string): unknown;
  /** A field of the Instance's flavor; undefined when unset (or no flavor). */
  flavor(name: string): unknown;
}

export interface UsageOptions {
  /** glance.API().generate_image_url(instance.image_ref): where the image is, or the bare ref. */
  imageRefUrl: string | null;
  /** The network_info the manager passes (create.end only); null: none, and no fixed_ips key. */
  networkInfo: readonly Vif[] | null;
  /** extra_usage_info: image_name of create.start, message of create.end, ... */
  extra: Record<string, unknown>;
  fault: NotificationFault | null;
}

/** info_from_instance, then exception_to_dict's message, code and exception over it. */
export function instanceUsageInfo(instance: UsageInstance, options: UsageOptions): Record<string, unknown> {
  const field = (name: string): unknown => instance.field(name) ?? null;
  const flavor = (name: string): unknown => instance.flavor(name) ?? null;
  const gb = (name: string): number => (typeof flavor(name) === 'number' ? (flavor(name) as number) : 0);
  const progress = field('progress');
  const info: Record<string, unknown> = {
    tenant_id: field('project_id'),
    user_id: field('user_id'),
    instance_id: field('uuid'),
    display_name: field('display_name'),
    reservation_id: field('reservation_id'),
    hostname: field('hostname'),
    // flavor.get('name', ''), flavor.get('flavorid', '')
    instance_type: instance.flavor('name') ?? '',
    instance_type_id: field('instance_type_id'),
    instance_flavor_id: instance.flavor('flavorid') ?? '',
    architecture: field('architecture'),
    memory_mb: flavor('memory_mb'),
    disk_gb: gb('root_gb') + gb('ephemeral_gb'),
    vcpus: flavor('vcpus'),
    root_gb: flavor('root_gb'),
    ephemeral_gb: flavor('ephemeral_gb'),
    host: field('host'),
    node: field('node'),
    availability_zone: field('availability_zone'),
    cell_name: nullSafeStr(field('cell_name')),
    created_at: pythonStr(field('created_at')),
    terminated_at: nullSafeIsotime(field('terminated_at')),
    deleted_at: nullSafeIsotime(field('deleted_at')),
    launched_at: nullSafeIsotime(field('launched_at')),
    image_ref_url: options.imageRefUrl,
    os_type: field('os_type'),
    kernel_id: field('kernel_id'),
    ramdisk_id: field('ramdisk_id'),
    state: field('vm_state'),
    state_description: nullSafeStr(field('task_state')),
    progress: typeof progress === 'number' && progress !== 0 ? Math.trunc(progress) : '',
    access_ip_v4: field('access_ip_v4'),
    access_ip_v6: field('access_ip_v6'),
  };
  if (options.networkInfo !== null) info['fixed_ips'] = fixedIps(options.networkInfo);
  info['image_meta'] = imageMeta(field('system_metadata'));
  info['metadata'] = field('metadata') ?? {};
  Object.assign(info, options.extra);
  if (options.fault !== null) Object.assign(info, legacyFault(options.fault));
  return info;
}

/** VIF.fixed_ips() of each VIF as hydrated FixedIPs (address, type, version, meta, floating_ips), with label and vif_mac. */
function fixedIps(networkInfo: readonly Vif[]): Record<string, unknown>[] {
  return networkInfo.flatMap((vif) =>
    vif.network.subnets.flatMap((subnet) =>
      subnet.ips.map((ip) => ({
        address: ip.address,
        type: ip.type,
        version: ip.version,
        meta: {},
        floating_ips: ip.floating_ips.map((floating) => ({ address: floating.address, type: 'floating', version: floating.address.includes(':') ? 6 : 4, meta: {} })),
        label: vif.network.label,
        vif_mac: vif.address,
      })),
    ),
  );
}

/** notifications.image_meta: the system metadata's image_* keys, without the prefix. */
function imageMeta(systemMetadata: unknown): Record<string, unknown> {
  if (typeof systemMetadata !== 'object' || systemMetadata === null) return {};
  return Object.fromEntries(Object.entries(systemMetadata).filter(([key]) => key.startsWith('image_')).map(([key, value]) => [key.slice(6), value]));
}

/**
 * exception_to_dict: the fault's message (NovaException.format_message, at most 255 characters), code 500,
 * and the exception as the serializer writes a NovaException: str() of its __dict__ with its class.
 */
function legacyFault(fault: NotificationFault): { exception: string; message: string; code: number } {
  const message = fault.exception_message.slice(0, 255);
  return {
    exception: `{'kwargs': {'code': 500}, 'message': ${pythonRepr(fault.exception_message)}, 'class': ${pythonRepr(fault.exception)}}`,
    message,
    code: 500,
  };
}

/** null_safe_str: str(s) if s else ''. */
function nullSafeStr(value: unknown): string {
  return value === null || value === '' || value === 0 || value === false ? '' : String(value);
}

/** An Instance DateTimeField's isotime text as the datetime it stands for: [date, time, microseconds]. */
function dateParts(value: unknown): [string, string, string] | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:Z|[+-]00:?00)?$/.exec(value);
  return match ? [match[1]!, match[2]!, (match[3] ?? '').padEnd(6, '0')] : null;
}

/** str(instance.created_at): Python's str of an aware UTC datetime ('None' without one). */
function pythonStr(value: unknown): string {
  const parts = dateParts(value);
  if (parts === null) return value === null ? 'None' : String(value);
  const [date, time, micro] = parts;
  return `${date} ${time}${micro === '000000' ? '' : `.${micro}`}+00:00`;
}

/** null_safe_isotime: utils.strtime of a datetime ('%Y-%m-%dT%H:%M:%S.%f'); '' without one. */
function nullSafeIsotime(value: unknown): string {
  const parts = dateParts(value);
  if (parts === null) return nullSafeStr(value);
  return `${parts[0]}T${parts[1]}.${parts[2]}`;
}

/** Python's repr() of a str: single quotes unless only double quotes avoid escaping. */
export function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\\' || char === quote) out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
}
