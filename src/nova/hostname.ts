/**
 * Instance hostnames as Nova Zed makes and accepts them. A hostname on the wire is either
 * utils.sanitize_hostname(display_name), "Server-<uuid>" when that is empty, or one the user gave under
 * microversion 2.90 (parameter_types.hostname). sanitize_hostname keeps Python's \w characters of Latin-1
 * (letters and digits, accented ones included) and "-", so the accepted set is: 1 to 63 of those, neither
 * first nor last a "-". No dots: Zed has no FQDN hostnames.
 */

/**
 * Python's \w over Latin-1, without "_" (sanitize_hostname turns it into "-"). schema/spawn-request.schema.json
 * spells out the same class, since Python's re (used to check the schema) has no \p{...}.
 */
const LATIN1_LETTER_OR_DIGIT = '0-9A-Za-z\\u00aa\\u00b2\\u00b3\\u00b5\\u00b9\\u00ba\\u00bc-\\u00be\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u00ff';
const HOSTNAME = new RegExp(`^[${LATIN1_LETTER_OR_DIGIT}](?:[${LATIN1_LETTER_OR_DIGIT}-]{0,61}[${LATIN1_LETTER_OR_DIGIT}])?$`);
const MAX_LENGTH = 63;

export function isValidHostname(hostname: string): boolean {
  return HOSTNAME.test(hostname);
}

/** nova/utils.py sanitize_hostname, step by step (Python's \w over Latin-1 is exactly [\p{L}\p{N}_]). */
export function sanitizeHostname(name: string): string {
  let hostname = name.replace(/[^\x00-\xff]/gu, '');
  hostname = hostname.slice(0, MAX_LENGTH);
  hostname = hostname.replace(/[ _.]/g, '-');
  hostname = hostname.replace(/[^\p{L}\p{N}_.-]+/gu, '');
  hostname = hostname.toLowerCase();
  return hostname.replace(/^[.-]+|[.-]+$/g, '');
}

/** compute/api.py _populate_instance_names for a single instance. */
export function defaultHostname(displayName: string, uuid: string): string {
  return sanitizeHostname(displayName) || `Server-${uuid}`;
}
