/**
 * The clients' failures, each saying whether the same call may succeed later (`retryable`): an unreachable
 * service or its 5xx may pass; a refused password or a missing endpoint stays until an operator acts.
 * Messages name the section, the URL or call and the status; never a password or a token.
 */

/** A status with which the same request may succeed later: none (no answer), 5xx, 429. */
function transient(status: number | null): boolean {
  return status === null || status >= 500 || status === 429;
}

/** Keystone refused the section's credentials (401), or could not be asked. */
export class AuthenticationFailed extends Error {
  override readonly name = 'AuthenticationFailed';
  constructor(
    /** The nova.conf section whose credentials these are, e.g. placement. */
    readonly section: string,
    readonly url: string,
    /** Keystone's HTTP status; null when no answer came. */
    readonly status: number | null,
    detail: string,
  ) {
    super(`[${section}] authentication at ${url} failed: ${status === null ? 'no answer' : `HTTP ${status}`}: ${detail}`);
  }

  get retryable(): boolean {
    return transient(this.status);
  }
}

/** The service catalog has no endpoint that the section's service_type, service_name, interfaces and region select. */
export class EndpointNotFound extends Error {
  override readonly name = 'EndpointNotFound';
  readonly retryable = false;
  constructor(
    readonly section: string,
    filter: string,
  ) {
    super(`[${section}] no endpoint in the service catalog for ${filter}; set endpoint_override or fix the catalog`);
  }
}

/** A call needs the service's own credentials and the section has none (auth_type unset): an operator must set them. */
export class CredentialsNotConfigured extends Error {
  override readonly name = 'CredentialsNotConfigured';
  readonly retryable = false;
  constructor(
    readonly section: string,
    why: string,
  ) {
    super(`[${section}] has no credentials (auth_type is unset): ${why}`);
  }
}

/** A service answered a call with an error, or did not answer. */
export class ServiceCallFailed extends Error {
  override readonly name = 'ServiceCallFailed';
  constructor(
    /** `<METHOD> <path>` as sent, e.g. PUT /resource_providers/<uuid>/inventories. */
    readonly call: string,
    readonly section: string,
    /** null when no answer came (connection refused, timeout). */
    readonly status: number | null,
    /** The service's error code where it gives one (placement: placement.concurrent_update). */
    readonly code: string | null,
    detail: string,
  ) {
    super(`[${section}] ${call}: ${status === null ? 'no answer' : `HTTP ${status}`}${code === null ? '' : ` ${code}`}: ${detail}`);
  }

  /** A generation conflict that outlasted its retries may pass once the other writer is done. */
  get retryable(): boolean {
    return transient(this.status) || this.code === 'placement.concurrent_update';
  }
}

/**
 * What fetch's "fetch failed" hides: the cause (ECONNREFUSED, a timeout). Duck-typed: fetch's errors may come
 * from another realm than this module's Error.
 */
export function networkReason(error: unknown): string {
  const described = (value: unknown): { message: string; code?: unknown } | null =>
    typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string'
      ? (value as { message: string; code?: unknown })
      : null;
  const cause = described(described(error) && (error as { cause?: unknown }).cause);
  if (cause) return cause.code === undefined ? cause.message : `${cause.message} (${String(cause.code)})`;
  return described(error)?.message ?? String(error);
}

/**
 * What a service's error answer says: the message `pick` finds in its JSON body, else (a proxy's page, not
 * the service's JSON) the body's first line, else the status text.
 */
export async function errorDetail(response: Response, pick: (body: unknown) => unknown): Promise<string> {
  const text = await response.text();
  try {
    const message = pick(JSON.parse(text));
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the first line says enough.
  }
  return text.split('\n')[0]!.slice(0, 200) || response.statusText;
}
