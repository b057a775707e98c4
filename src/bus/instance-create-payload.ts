/**
 * The payload of Nova's versioned instance.create.* notifications (nova/notifications/objects/instance.py
 * InstanceCreatePayload 1.12, with FlavorPayload 1.4, IpPayload 1.0, KeypairPayload 1.0, ExceptionPayload
 * 1.1) as a NovaObject primitive, filled from what a SpawnRequest knows. Nova fills it from its database
 * row; the fields a compute-side daemon cannot know are null where the field is nullable and left out
 * (unset, which obj_from_primitive accepts) where it is not:
 * - null: display_description, created_at, updated_at, terminated_at, deleted_at, locked_reason,
 *   trusted_image_certificates, flavor.rxtx_factor, flavor.vcpu_weight, flavor.projects, flavor.description;
 *   keypair fingerprints of x509 keys.
 * - left out: flavor.disabled and flavor.is_public.
 * - fixed as Nova has them for a new instance: locked false, auto_disk_config MANUAL, progress 0, tags [],
 *   block_devices [] (only volumes are listed; volumes are not ours to attach), node = host.
 * When the message was too broken to give a SpawnRequest, the payload carries the instance uuid and the
 * caller's context only.
 */
import { createHash } from 'node:crypto';
import type { Flavor, Instance, KeyPair, SpawnRequest, Vif } from '../nova/spawn-request.js';
import { instanceName } from '../virt/instance-name.js';

const INSTANCE_CREATE_PAYLOAD_VERSION = '1.12';

export type CreatePhase = 'start' | 'end' | 'error';

/** ExceptionPayload: what failed, in Nova's words (the exception's class name and message). */
export interface NotificationFault {
  module_name: string;
  function_name: string;
  exception: string;
  exception_message: string;
  traceback: string;
}

/** A notification payload as obj_to_primitive writes it (the decoding side is nova/nova-object.ts). */
export interface PayloadPrimitive {
  'nova_object.name': string;
  'nova_object.namespace': 'nova';
  'nova_object.version': string;
  'nova_object.data': Record<string, unknown>;
}

/** What the payload is made from: a decoded request, or only the uuid of an instance whose request was not valid. */
export type PayloadSource =
  | { request: SpawnRequest }
  | { uuid: string; context: { request_id: string | null; user_id: string | null; project_id: string | null } };

export interface PayloadOptions {
  host: string;
  phase: CreatePhase;
  fault: NotificationFault | null;
  /** The libvirt domain name when the spawn got that far (the end notification has it). */
  domain: string | null;
  now: Date;
}

function primitive(name: string, version: string, data: Record<string, unknown>): PayloadPrimitive {
  return { 'nova_object.name': name, 'nova_object.namespace': 'nova', 'nova_object.version': version, 'nova_object.data': data };
}

/** oslo.versionedobjects DateTimeField.to_primitive: utils.isotime, second precision, "Z". */
function novaIsoTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** vm_state, task_state and power_state as compute/manager.py has them when it emits each phase. */
const STATES: Record<CreatePhase, { state: string; task_state: string | null; power_state: string }> = {
  start: { state: 'building', task_state: null, power_state: 'pending' },
  end: { state: 'active', task_state: null, power_state: 'running' },
  error: { state: 'building', task_state: 'spawning', power_state: 'pending' },
};

export function instanceCreatePayload(source: PayloadSource, options: PayloadOptions): PayloadPrimitive {
  const fault = options.fault === null ? null : primitive('ExceptionPayload', '1.1', { ...options.fault });
  if (!('request' in source)) {
    return primitive('InstanceCreatePayload', INSTANCE_CREATE_PAYLOAD_VERSION, {
      uuid: source.uuid,
      host: options.host,
      node: options.host,
      ...STATES[options.phase],
      ...initiator(source.context),
      fault,
    });
  }
  const { instance, image, context } = source.request;
  const launchedAt = options.phase === 'end' ? options.now : instance.launched_at === null ? null : new Date(instance.launched_at);
  return primitive('InstanceCreatePayload', INSTANCE_CREATE_PAYLOAD_VERSION, {
    uuid: instance.uuid,
    user_id: instance.user_id,
    tenant_id: instance.project_id,
    reservation_id: instance.reservation_id,
    display_name: instance.display_name,
    display_description: null,
    host_name: instance.hostname,
    host: options.host,
    node: options.host,
    os_type: image.properties['os_type'] ?? null,
    architecture: image.properties['architecture'] ?? null,
    availability_zone: instance.availability_zone,
    flavor: flavorPayload(instance.flavor),
    image_uuid: instance.image_ref,
    key_name: instance.key_name,
    kernel_id: instance.kernel_id,
    ramdisk_id: instance.ramdisk_id,
    created_at: null,
    launched_at: launchedAt === null ? null : novaIsoTime(launchedAt),
    terminated_at: null,
    deleted_at: null,
    updated_at: null,
    ...STATES[options.phase],
    progress: 0,
    ip_addresses: instance.network_info.flatMap(ipPayloads),
    block_devices: [],
    metadata: instance.metadata,
    locked: false,
    auto_disk_config: 'MANUAL',
    ...initiator(context),
    locked_reason: null,
    fault,
    keypairs: instance.keypairs.map((keypair) => keypairPayload(keypair, instance)),
    tags: [],
    trusted_image_certificates: null,
    instance_name: options.domain ?? instanceName(instance),
  });
}

/** InstancePayload.__init__: request_id only for a context with a user and project (not a periodic task). */
function initiator(context: { request_id: string | null; user_id: string | null; project_id: string | null }): Record<string, unknown> {
  return {
    request_id: context.user_id && context.project_id ? context.request_id : null,
    action_initiator_user: context.user_id,
    action_initiator_project: context.project_id,
  };
}

function flavorPayload(flavor: Flavor): PayloadPrimitive {
  return primitive('FlavorPayload', '1.4', {
    flavorid: flavor.flavorid,
    memory_mb: flavor.memory_mb,
    vcpus: flavor.vcpus,
    root_gb: flavor.root_gb,
    ephemeral_gb: flavor.ephemeral_gb,
    name: flavor.name,
    swap: flavor.swap,
    rxtx_factor: null,
    vcpu_weight: null,
    extra_specs: flavor.extra_specs,
    projects: null,
    description: null,
  });
}

/** IpPayload.from_network_info: one entry per fixed IP of each VIF. */
function ipPayloads(vif: Vif): PayloadPrimitive[] {
  // DictOfStringsField: Nova's String coerces numbers and booleans; a null value would not validate.
  const meta = Object.fromEntries(
    Object.entries(vif.meta)
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([key, value]) => [key, typeof value === 'object' ? JSON.stringify(value) : String(value)]),
  );
  return vif.network.subnets.flatMap((subnet) =>
    subnet.ips.map((ip) =>
      primitive('IpPayload', '1.0', {
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
}

function keypairPayload(keypair: KeyPair, instance: Instance): PayloadPrimitive {
  return primitive('KeypairPayload', '1.0', {
    user_id: instance.user_id,
    name: keypair.name,
    public_key: keypair.public_key,
    fingerprint: keypair.type === 'ssh' ? sshFingerprint(keypair.public_key) : null,
    type: keypair.type,
  });
}

/** nova.crypto.generate_fingerprint: MD5 of the key blob, as colon-separated hex pairs; null when there is no blob. */
function sshFingerprint(publicKey: string): string | null {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (blob === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return null;
  const hex = createHash('md5').update(Buffer.from(blob, 'base64')).digest('hex');
  return hex.match(/../g)!.join(':');
}
