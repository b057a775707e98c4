/**
 * keystoneauth's Session for one nova.conf section: its token, fetched once and shared by every client and every
 * concurrent caller, renewed before it expires, fetched again when a service refuses it.
 */
import type { KsaAuthOptions } from '../config/schema.js';
import { authPlugin, type AuthPlugin, type PasswordAuth } from './auth-plugins.js';
import type { ServiceCatalog } from './catalog.js';
import { AuthenticationFailed, errorDetail, networkReason } from './errors.js';

/** What an authentication gives (keystoneauth's AccessInfo, reduced to what the clients use). */
export interface Access {
  token: string;
  /** ms since the epoch; null: never expires (admin_token). */
  expiresAt: number | null;
  /** null: no catalog (admin_token). */
  catalog: ServiceCatalog | null;
  /** admin_token's endpoint, used for every service. */
  endpoint: string | null;
}

export interface SessionOptions {
  /** keystoneauth's MIN_TOKEN_LIFE_SECONDS (120 s): a token closer than this to its expiry is renewed first. */
  renewBeforeMs?: number;
  /** Per request to Keystone and to the services (keystoneauth has none by default: a hung service would hang the caller). */
  timeoutMs?: number;
  now?: () => number;
}

export const DEFAULT_RENEW_BEFORE_MS = 120_000;
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Keystone's error body: {"error": {"code", "title", "message"}}; its message names no secret. */
function keystoneMessage(response: Response): Promise<string> {
  return errorDetail(response, (body) => (body as { error?: { message?: unknown } }).error?.message);
}

async function fetchToken(section: string, plugin: PasswordAuth, timeoutMs: number): Promise<Access> {
  let response: Response;
  try {
    response = await fetch(plugin.tokensUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(plugin.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new AuthenticationFailed(section, plugin.tokensUrl, null, networkReason(error));
  }
  if (response.status !== 201) {
    throw new AuthenticationFailed(section, plugin.tokensUrl, response.status, await keystoneMessage(response));
  }
  const token = response.headers.get('X-Subject-Token');
  const body = (await response.json()) as { token?: { expires_at?: string; catalog?: ServiceCatalog } };
  const expiresAt = Date.parse(body.token?.expires_at ?? '');
  if (token === null || Number.isNaN(expiresAt)) {
    throw new AuthenticationFailed(section, plugin.tokensUrl, response.status, 'the answer has no X-Subject-Token or no token.expires_at');
  }
  return { token, expiresAt, catalog: body.token?.catalog ?? [], endpoint: null };
}

export class Session {
  private access: Access | null = null;
  private pending: Promise<Access> | null = null;
  private readonly renewBeforeMs: number;
  private readonly now: () => number;
  readonly timeoutMs: number;

  constructor(
    /** The nova.conf section the credentials come from, for errors. */
    readonly section: string,
    private readonly plugin: AuthPlugin,
    options: SessionOptions = {},
  ) {
    this.renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  /** The current access, fetched (once for every concurrent caller) when there is none or it expires soon. */
  async getAccess(): Promise<Access> {
    const access = this.access;
    if (access !== null && (access.expiresAt === null || access.expiresAt - this.now() > this.renewBeforeMs)) return access;
    this.pending ??= this.authenticate().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async authenticate(): Promise<Access> {
    const access =
      this.plugin.kind === 'admin_token'
        ? { token: this.plugin.token, expiresAt: null, catalog: null, endpoint: this.plugin.endpoint }
        : await fetchToken(this.section, this.plugin, this.timeoutMs);
    this.access = access;
    return access;
  }

  /**
   * A service refused `token`: forget it, unless another caller already replaced it. Whether a new token can be
   * had: admin_token's is the only one there is.
   */
  invalidate(token: string): boolean {
    if (this.plugin.kind === 'admin_token') return false;
    if (this.access?.token === token) this.access = null;
    return true;
  }
}

/** What an Adapter needs of a session: a Session, or a user's token (userTokenSource). */
export type TokenSource = Pick<Session, 'getAccess' | 'invalidate' | 'timeoutMs'>;

/**
 * The user's own token from the request context, with the context's catalog (Nova's _ContextAuthPlugin): for
 * the calls Nova makes as the user, so that the user sees only what the user may. A refused token is not
 * renewed: only the user can have another.
 */
export function userTokenSource(token: string, catalog: ServiceCatalog, timeoutMs = DEFAULT_TIMEOUT_MS): TokenSource {
  const access: Access = { token, expiresAt: null, catalog, endpoint: null };
  return { getAccess: async () => access, invalidate: () => false, timeoutMs };
}

/** The section's Session, or null when its auth_type is unset; ConfigError when an option it needs is missing. */
export function sessionFromConfig(section: string, options: KsaAuthOptions, sessionOptions: SessionOptions = {}): Session | null {
  const plugin = authPlugin(section, options);
  return plugin === null ? null : new Session(section, plugin, sessionOptions);
}
