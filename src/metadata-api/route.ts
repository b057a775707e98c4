/**
 * The answer to one request once the instance is known: Nova's handler.__call__ after identification,
 * with the methods made explicit (Nova answers any method with the document; we answer GET and HEAD, and
 * POST on the password only, with 405 and Allow otherwise).
 */
import { httpError, TEXT_HTML, type ErrorRequest, type MetadataResponse } from './http-error.js';
import type { ServiceMetadata } from '../metadata/instance-metadata.js';
import { EC2_VERSIONS_BODY, lookup, TEXT_PLAIN } from './lookup.js';

export interface MetadataRequest extends ErrorRequest {
  /** requestPath() of the target: null when it names nothing servable. */
  path: string | null;
}

/** The instance as the request sees it. */
export interface ServedInstance {
  metadata: ServiceMetadata;
  password: string | null;
  requester: string | null;
}

/** POST openstack/<version>/password to an instance without a password: the server reads and stores the body. */
export interface PasswordPost {
  kind: 'post-password';
}

const READ_METHODS = ['GET', 'HEAD'];
const encoder = new TextEncoder();

function notAllowed(request: ErrorRequest, allowed: readonly string[]): MetadataResponse {
  return { ...httpError(405, request), allow: allowed.join(', ') };
}

/** "/" (normpath) lists the EC2 versions to anyone: Nova answers it before identifying the requester. */
export function isRootPath(path: string | null): boolean {
  return path === '/';
}

export function rootListing(request: ErrorRequest): MetadataResponse {
  if (!READ_METHODS.includes(request.method)) return notAllowed(request, READ_METHODS);
  return { status: 200, contentType: TEXT_PLAIN, body: EC2_VERSIONS_BODY };
}

export function route(request: MetadataRequest, instance: ServedInstance): MetadataResponse | PasswordPost {
  const found = request.path === null ? { kind: 'not-found' as const } : lookup(instance.metadata, request.path, instance.requester);
  switch (found.kind) {
    case 'not-found':
      return httpError(404, request);
    case 'password':
      // handle_password: GET returns the password (webob's default text/html), POST sets it once.
      if (READ_METHODS.includes(request.method)) {
        return { status: 200, contentType: TEXT_HTML, body: encoder.encode(instance.password ?? '') };
      }
      if (request.method !== 'POST') return notAllowed(request, [...READ_METHODS, 'POST']);
      return instance.password ? httpError(409, request) : { kind: 'post-password' };
    case 'document':
      if (!READ_METHODS.includes(request.method)) return notAllowed(request, READ_METHODS);
      return { status: 200, contentType: found.contentType, body: found.body };
  }
}
