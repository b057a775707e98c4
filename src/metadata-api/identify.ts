/**
 * Which instance is asking (handler.py): behind Neutron's metadata proxy, the signed X-Instance-ID the
 * proxy adds; otherwise the address the request comes from, matched against the fixed IPs of the
 * instances this host spawned.
 */
import crypto from 'node:crypto';
import { BoundedMap } from '../bounded-map.js';
import type { Logger } from '../log.js';
import type { NovaConfig } from '../config/schema.js';
import { canonicalAddress, isLoopback } from './address.js';
import { httpError, type ErrorRequest, type MetadataResponse } from './http-error.js';
import type { MetadataRecord } from './record.js';
import type { MetadataRegistry } from './registry.js';

/** The options the metadata API reads (a NovaConfig has them all). */
export interface MetadataApiConfig {
  DEFAULT: Pick<NovaConfig['DEFAULT'], 'metadata_listen' | 'metadata_listen_port'>;
  api: Pick<NovaConfig['api'], 'use_forwarded_for'>;
  neutron: NovaConfig['neutron'];
}

export interface IdentifyRequest extends ErrorRequest {
  /** The lines of each header identify reads, by lower-case name, as IncomingMessage.headersDistinct has them. */
  headers: Readonly<Record<string, readonly string[] | undefined>>;
  /** The TCP peer's address. */
  peer: string;
}

export type Identified =
  /** requester: the address Nova's InstanceMetadata gets (EC2 local-ipv4 falls back to it). */
  | { record: MetadataRecord; requester: string | null }
  | { error: MetadataResponse }
  /** No instance this registry knows: `error` unless a record saved since says otherwise; `log` says why. */
  | { error: MetadataResponse; unknown: { message: string; context: Record<string, string> } };

const UNKNOWN_ERROR = 'An unknown error has occurred. Please try your request again.';

/** hex HMAC-SHA256 of the instance id, keyed with [neutron] metadata_proxy_shared_secret. */
export function instanceIdSignature(secret: string, instanceId: string): string {
  return crypto.createHmac('sha256', secret).update(instanceId).digest('hex');
}

/**
 * A guest asks for many documents, each signed again by the proxy: an HMAC per request cost as much as the
 * rest of it. Ids longer than any instance id are not kept, so the X-Instance-ID of strangers cannot fill
 * the memory.
 */
const expectedSignatures = new BoundedMap<string, { secret: string; signature: string }>(4096);
const LONGEST_KEPT_ID = 64;

function expectedSignature(secret: string, instanceId: string): string {
  const known = expectedSignatures.get(instanceId);
  if (known?.secret === secret) return known.signature;
  const signature = instanceIdSignature(secret, instanceId);
  if (instanceId.length <= LONGEST_KEPT_ID) expectedSignatures.set(instanceId, { secret, signature });
  return signature;
}

/** secutils.constant_time_compare: the time taken does not depend on where the strings differ. */
export function signatureMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function single(values: readonly string[] | undefined): string | undefined {
  return values?.join(', ');
}

/** _handle_instance_id_request: Neutron's proxy vouches for the instance with the shared secret. */
function byInstanceId(request: IdentifyRequest, config: MetadataApiConfig, registry: MetadataRegistry, log: Logger): Identified {
  const instanceIds = request.headers['x-instance-id'];
  const tenantIds = request.headers['x-tenant-id'];
  const signature = single(request.headers['x-instance-id-signature']);
  const requester = single(request.headers['x-forwarded-for']) ?? null;
  let problem: string | null = null;
  if (instanceIds === undefined) problem = 'X-Instance-ID header is missing from request.';
  else if (tenantIds === undefined) problem = 'X-Tenant-ID header is missing from request.';
  else if (instanceIds.length > 1) problem = 'Multiple X-Instance-ID headers found within request.';
  else if (tenantIds.length > 1) problem = 'Multiple X-Tenant-ID headers found within request.';
  if (problem !== null) return { error: httpError(400, request, problem) };
  const instanceId = instanceIds![0]!;
  const tenantId = tenantIds![0]!;

  const expected = expectedSignature(config.neutron.metadata_proxy_shared_secret, instanceId);
  // A missing signature is a failed authentication like a wrong one: 403 (Nova answers 400 "missing").
  if (!signature || !signatureMatches(expected, signature)) {
    // Never the expected value: it would let whoever reads the log forge requests for this instance.
    log.warning(signature === undefined ? 'X-Instance-ID-Signature is missing' : 'X-Instance-ID-Signature does not match the expected value', {
      instance: instanceId,
      signature: signature?.slice(0, 80),
      requester: requester ?? request.peer,
    });
    return { error: httpError(403, request, 'Invalid proxy request signature.') };
  }

  const record = registry.byInstanceId(instanceId);
  if (!record) return { error: httpError(404, request), unknown: { message: 'Failed to get metadata for instance id', context: { instance: instanceId } } };
  if (record.project_id !== tenantId) {
    log.warning('Tenant_id does not match tenant_id of instance', { tenant_id: tenantId, instance: instanceId });
    return { error: httpError(404, request) };
  }
  return { record, requester };
}

/**
 * _handle_remote_ip_request. [api] use_forwarded_for makes X-Forwarded-For the requester, but only from a
 * proxy on this host (a loopback peer): anyone else could name another instance's address in it. Of a
 * list, the last entry is the one that proxy added.
 */
function byAddress(request: IdentifyRequest, config: MetadataApiConfig, registry: MetadataRegistry, log: Logger): Identified {
  if (request.headers['x-instance-id'] !== undefined) {
    log.warning("X-Instance-ID present in request headers. The 'service_metadata_proxy' option must be enabled to process this header.");
  }
  const peer = canonicalAddress(request.peer) ?? request.peer;
  const forwarded = request.headers['x-forwarded-for'];
  const address =
    config.api.use_forwarded_for && forwarded !== undefined && isLoopback(peer)
      ? forwarded.join(',').split(',').pop()!.trim()
      : peer;
  const canonical = canonicalAddress(address);
  const matches = canonical === null ? [] : registry.byAddress(canonical);
  if (matches.length === 0) return { error: httpError(404, request), unknown: { message: 'Failed to get metadata for IP: no metadata', context: { address } } };
  if (matches.length > 1) {
    log.error('Failed to get metadata for IP: instances of several projects have this address', {
      address,
      instances: matches.map((record) => record.uuid).join(','),
    });
    return { error: httpError(500, request, UNKNOWN_ERROR) };
  }
  return { record: matches[0]!, requester: canonical };
}

export function identify(request: IdentifyRequest, config: MetadataApiConfig, registry: MetadataRegistry, log: Logger): Identified {
  return config.neutron.service_metadata_proxy ? byInstanceId(request, config, registry, log) : byAddress(request, config, registry, log);
}
