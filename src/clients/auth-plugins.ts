/**
 * keystoneauth's two auth plugins that nova-spawnd implements, as plain data from a section's options:
 * password (Keystone v3, project-scoped, as keystoneauth's generic password plugin asks for it) and
 * admin_token. Checked when the daemon starts, so that a missing option stops it there and not at the first call.
 */
import { ConfigError, type ConfigProblem } from '../config/config-error.js';
import type { KsaAuthOptions } from '../config/schema.js';

export interface PasswordAuth {
  kind: 'password';
  /** Where POST /v3/auth/tokens goes. */
  tokensUrl: string;
  /** The body of that POST (holds the password: never logged, never in an error). */
  body: unknown;
}

export interface AdminTokenAuth {
  kind: 'admin_token';
  endpoint: string;
  token: string;
}

export type AuthPlugin = PasswordAuth | AdminTokenAuth;

/** auth_url with or without /v3, as keystoneauth's discovery would find v3 at it; v2.0 is gone from Keystone. */
export function tokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
}

type Named = { id: string } | { name: string; domain: { id: string } | { name: string } };

/** The user or project by id, else by name in a domain given by id or name; null when the options say neither. */
function identify(id: string | null, name: string | null, domainId: string | null, domainName: string | null): Named | null {
  if (id !== null) return { id };
  if (name === null) return null;
  if (domainId !== null) return { name, domain: { id: domainId } };
  if (domainName !== null) return { name, domain: { name: domainName } };
  return null;
}

/** The section's auth plugin, or null when auth_type is unset; ConfigError naming every missing option. */
export function authPlugin(section: string, options: KsaAuthOptions): AuthPlugin | null {
  const problems: ConfigProblem[] = [];
  const missing = (option: string, reason: string) => problems.push({ section, option, value: '', reason });
  switch (options.auth_type) {
    case null:
      return null;
    case 'admin_token': {
      const { endpoint, token } = options;
      if (endpoint === null) missing('endpoint', 'auth_type admin_token needs the endpoint every request goes to');
      if (token === null) missing('token', 'auth_type admin_token needs a token');
      if (endpoint === null || token === null) throw new ConfigError(problems, `[${section}] incomplete credentials`);
      return { kind: 'admin_token', endpoint, token };
    }
    case 'password':
    case 'v3password': {
      const user = identify(options.user_id, options.username, options.user_domain_id, options.user_domain_name);
      const project = identify(options.project_id, options.project_name, options.project_domain_id, options.project_domain_name);
      if (options.auth_url === null) missing('auth_url', 'auth_type password needs the Keystone URL');
      if (options.password === null) missing('password', 'auth_type password needs a password');
      if (user === null) missing('username', 'auth_type password needs user_id, or username with user_domain_name or user_domain_id');
      if (project === null) {
        missing('project_name', 'auth_type password needs project_id, or project_name with project_domain_name or project_domain_id (the token must carry a service catalog)');
      }
      if (options.auth_url === null || options.password === null || user === null || project === null) {
        throw new ConfigError(problems, `[${section}] incomplete credentials`);
      }
      return {
        kind: 'password',
        tokensUrl: tokensUrl(options.auth_url),
        body: {
          auth: {
            identity: { methods: ['password'], password: { user: { ...user, password: options.password } } },
            scope: { project },
          },
        },
      };
    }
  }
}
