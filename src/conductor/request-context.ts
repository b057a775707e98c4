/**
 * nova.context.RequestContext.to_dict() as the conductor reads it (_context_* keys on the wire): the admin
 * context a compute service's own work (start-up, heartbeat, resource tracker) calls with
 * (nova.context.get_admin_context()), and a fresh request id for each piece of work.
 */
import { randomUUID } from 'node:crypto';

export type RequestContext = Record<string, unknown>;

/** oslo_context's generate_request_id(): "req-<uuid4>". */
export function requestId(): string {
  return `req-${randomUUID()}`;
}

/** get_admin_context(): no user, no project, is_admin, read_deleted "no". */
export function adminContext(): RequestContext {
  return {
    user_id: null, project_id: null, system_scope: null, domain_id: null, user_domain_id: null, project_domain_id: null,
    is_admin: true, read_only: false, show_deleted: false, auth_token: null, request_id: requestId(),
    global_request_id: null, resource_uuid: null, roles: [], user_identity: '- - - - -', is_admin_project: true,
    read_deleted: 'no', remote_address: null, timestamp: new Date().toISOString().replace('Z', ''), quota_class: null,
    user_name: null, project_name: null, service_catalog: [],
  };
}

/** RequestContext.elevated(): the same request as an admin (is_admin, the admin role added). */
export function elevated(context: RequestContext): RequestContext {
  const roles = Array.isArray(context['roles']) ? (context['roles'] as unknown[]) : [];
  return { ...context, is_admin: true, roles: roles.includes('admin') ? [...roles] : [...roles, 'admin'] };
}
