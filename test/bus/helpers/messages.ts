/**
 * Spawn messages for the bus tests. Casts start from the body Nova itself makes (test/helpers/
 * nova_wire_body.py: the real ComputeAPI.build_and_run_instance through oslo.messaging), re-addressed to
 * a fresh instance; plain requests from the metadata fixtures.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Options } from 'amqplib';
import { fullRequest } from '../../metadata/fixtures.js';
import { toPlain } from '../../nova/plain-requests.js';
import { novaWireBody } from '../../nova/wire-bodies.js';
import type { Instance } from '../../../src/nova/spawn-request.js';
import { CACHED_IMAGE_ID } from './compute.js';

export interface CastTemplate {
  inner: Record<string, unknown>;
  properties: Options.Publish;
}

/** Nova's own minimal build_and_run_instance cast at `upgradeLevel` ("6.0", or "5.0" for RPC 5.0). */
export async function novaCastTemplate(upgradeLevel = '6.0'): Promise<CastTemplate> {
  const wire = await novaWireBody('minimal', upgradeLevel);
  const outer = JSON.parse(wire.body.toString()) as { 'oslo.message': string };
  return {
    inner: JSON.parse(outer['oslo.message']) as Record<string, unknown>,
    properties: { contentType: wire.content_type, contentEncoding: wire.content_encoding, deliveryMode: wire.delivery_mode },
  };
}

export interface TestInstance {
  uuid: string;
  id: number;
}

/**
 * Ids count up from a random start: never the same twice in a process (test:///default's domains, named
 * after the id, live as long as it; two random ids in a run of thousands met once), and unlikely to meet
 * another process's.
 */
let nextId = randomBytes(4).readUInt32BE() >>> 2;

/** A uuid and numeric id no other test uses. */
export function newInstance(): TestInstance {
  return { uuid: randomUUID(), id: nextId++ };
}

export function envelope(inner: unknown): Buffer {
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
}

type InstanceData = Record<string, unknown>;

/**
 * The template's cast for `instance`, booting the cached image, with a new `_unique_id`; `edit` changes
 * the inner message (method, version, args) or the Instance's data before it is wrapped.
 */
export function castBody(template: CastTemplate, instance: TestInstance, edit: (inner: Record<string, unknown>, data: InstanceData) => void = () => {}): Buffer {
  const inner = structuredClone(template.inner);
  const args = inner['args'] as Record<string, Record<string, unknown>>;
  const data = args['instance']!['nova_object.data'] as InstanceData;
  Object.assign(data, { uuid: instance.uuid, id: instance.id, image_ref: CACHED_IMAGE_ID, display_name: `vm-${instance.id}`, hostname: `vm-${instance.id}` });
  (((data['info_cache'] as InstanceData)['nova_object.data']) as InstanceData)['instance_uuid'] = instance.uuid;
  inner['_unique_id'] = randomUUID().replace(/-/g, '');
  inner['_context_request_id'] = `req-${randomUUID()}`;
  edit(inner, data);
  return envelope(inner);
}

/** Our plain request for `instance` (the metadata fixtures' full instance: drive, network, files, keys). */
export function plainBody(instance: TestInstance, overrides: Partial<Instance> = {}, edit: (plain: Record<string, unknown>) => void = () => {}): Buffer {
  const request = fullRequest({ uuid: instance.uuid, id: instance.id, display_name: `vm-${instance.id}`, hostname: `vm-${instance.id}`, image_ref: CACHED_IMAGE_ID, ...overrides });
  const plain = toPlain({ ...request, image: { ...request.image, id: CACHED_IMAGE_ID }, context: { ...request.context, request_id: `req-${randomUUID()}` } });
  edit(plain);
  return Buffer.from(JSON.stringify(plain));
}

export const JSON_PROPERTIES: Options.Publish = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 };
