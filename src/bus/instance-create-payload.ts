/**
 * The payload of Nova's versioned instance.create.* notifications (nova/notifications/objects/instance.py
 * InstanceCreatePayload 1.12: InstancePayload, nova/instance-payload.ts, with a fault, the key pairs, tags,
 * trusted image certificates and the instance name), filled from what a SpawnRequest knows. Nova fills it
 * from its database row; the fields a compute-side daemon cannot know are null where the field is nullable
 * and left out (unset, which obj_from_primitive accepts) where it is not:
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
import {
  exceptionPayload,
  initiator,
  instancePayloadData,
  payloadPrimitive,
  type InitiatorContext,
  type NotificationFault,
  type PayloadPrimitive,
} from '../nova/instance-payload.js';
import type { UsageInstance } from '../nova/instance-usage.js';
import type { Instance, KeyPair, SpawnRequest } from '../nova/spawn-request.js';
import { novaDateTime } from '../nova/wire-object.js';
import { instanceName } from '../virt/instance-name.js';

const INSTANCE_CREATE_PAYLOAD_VERSION = '1.12';

export type CreatePhase = 'start' | 'end' | 'error';

/** What the payload is made from: a decoded request, or only the uuid of an instance whose request was not valid. */
export type PayloadSource = { request: SpawnRequest } | { uuid: string; context: InitiatorContext };

export interface PayloadOptions {
  host: string;
  phase: CreatePhase;
  fault: NotificationFault | null;
  /** The libvirt domain name when the spawn got that far (the end notification has it). */
  domain: string | null;
  now: Date;
}

/** vm_state, task_state and power_state as compute/manager.py has them when it emits each phase. */
const STATES: Record<CreatePhase, { vm_state: string; task_state: string | null; power_state: string }> = {
  start: { vm_state: 'building', task_state: null, power_state: 'pending' },
  end: { vm_state: 'active', task_state: null, power_state: 'running' },
  error: { vm_state: 'building', task_state: 'spawning', power_state: 'pending' },
};

export function instanceCreatePayload(source: PayloadSource, options: PayloadOptions): PayloadPrimitive {
  const fault = exceptionPayload(options.fault);
  const { vm_state, task_state, power_state } = STATES[options.phase];
  if (!('request' in source)) {
    return payloadPrimitive('InstanceCreatePayload', INSTANCE_CREATE_PAYLOAD_VERSION, {
      uuid: source.uuid,
      host: options.host,
      node: options.host,
      state: vm_state,
      task_state,
      power_state,
      ...initiator(source.context),
      fault,
    });
  }
  const { instance, context } = source.request;
  const fields = createFields(source.request, { host: options.host, phase: options.phase, now: options.now });
  const flavor: Record<string, unknown> = { ...instance.flavor };
  const data = instancePayloadData({
    field: (name) => fields[name],
    flavor: (name) => flavor[name],
    networkInfo: instance.network_info,
    lockedReason: null,
    blockDevices: [],
    context,
  });
  return payloadPrimitive('InstanceCreatePayload', INSTANCE_CREATE_PAYLOAD_VERSION, {
    ...data,
    fault,
    keypairs: instance.keypairs.map((keypair) => keypairPayload(keypair, instance)),
    tags: [],
    trusted_image_certificates: null,
    instance_name: options.domain ?? instanceName(instance),
  });
}

/**
 * The Instance's fields as Nova's row would have them when it notifies `phase`, by Instance field name, from
 * what the request knows (see above for what it cannot).
 */
function createFields(request: SpawnRequest, at: { host: string; phase: CreatePhase; now: Date }): Record<string, unknown> {
  const { instance, image } = request;
  return {
    uuid: instance.uuid,
    user_id: instance.user_id,
    project_id: instance.project_id,
    reservation_id: instance.reservation_id,
    display_name: instance.display_name,
    display_description: null,
    hostname: instance.hostname,
    host: at.host,
    node: at.host,
    os_type: image.properties['os_type'] ?? null,
    architecture: image.properties['architecture'] ?? null,
    availability_zone: instance.availability_zone,
    image_ref: instance.image_ref,
    key_name: instance.key_name,
    kernel_id: instance.kernel_id,
    ramdisk_id: instance.ramdisk_id,
    created_at: null,
    launched_at: at.phase === 'end' ? novaDateTime(at.now) : instance.launched_at,
    terminated_at: null,
    deleted_at: null,
    updated_at: null,
    ...STATES[at.phase],
    progress: 0,
    metadata: instance.metadata,
    system_metadata: instance.system_metadata,
    locked: false,
    auto_disk_config: false,
    instance_type_id: null,
    cell_name: null,
    access_ip_v4: null,
    access_ip_v6: null,
  };
}

/**
 * The same Instance for the legacy compute.instance.create.* payload (info_from_instance); an instance known
 * by its uuid alone has its states, host and node, and nothing else.
 */
export function createUsageInstance(source: PayloadSource, at: { host: string; phase: CreatePhase; now: Date }): UsageInstance {
  if (!('request' in source)) {
    const known: Record<string, unknown> = { uuid: source.uuid, host: at.host, node: at.host, ...STATES[at.phase] };
    return { field: (name) => known[name], flavor: () => undefined };
  }
  const fields = createFields(source.request, at);
  const flavor: Record<string, unknown> = { ...source.request.instance.flavor };
  return { field: (name) => fields[name], flavor: (name) => flavor[name] };
}

function keypairPayload(keypair: KeyPair, instance: Instance): PayloadPrimitive {
  return payloadPrimitive('KeypairPayload', '1.0', {
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
