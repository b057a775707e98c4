/**
 * oslo.config's template substitution (ConfigOpts._substitute): `$name` and `${name}` look the option up in
 * the same section, then in DEFAULT; `${section.name}` names the section; `$$` and `\$` are a literal `$`.
 * Like Python's string.Template idpattern in oslo, names are lowercase, and a `$` not followed by one is kept.
 */

export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
  constructor(readonly reference: string, reason: string) {
    super(`$${reference} ${reason}`);
  }
}

const TEMPLATE = /\$(?:(\$)|([_a-z][._a-z0-9]*)|\{([_a-z][._a-z0-9]*)\})/g;

/** Substitutes one string; `resolve` returns the referenced option's own (already substituted) string. */
export function substitute(value: string, resolve: (reference: string) => string): string {
  return value.replace(/\\\$/g, '$$$$').replace(TEMPLATE, (match, dollar?: string, bare?: string, braced?: string) => {
    if (dollar) return '$';
    const reference = bare ?? braced;
    return reference ? resolve(reference) : match;
  });
}

/** Splits a reference into (section, option): "glance.api_servers" or a bare name in `section`, then DEFAULT. */
export function candidates(reference: string, section: string): [string, string][] {
  const dot = reference.indexOf('.');
  if (dot >= 0) return [[reference.slice(0, dot), reference.slice(dot + 1)]];
  return section === 'DEFAULT' ? [['DEFAULT', reference]] : [[section, reference], ['DEFAULT', reference]];
}
