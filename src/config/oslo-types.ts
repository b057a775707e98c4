/**
 * oslo.config's option types (oslo_config/types.py), as parsers from the raw INI string. Each type also
 * describes what it allows, so an error can tell the operator what to write instead.
 */

export class InvalidOptionValue extends Error {
  override readonly name = 'InvalidOptionValue';
  constructor(readonly allowed: string) {
    super(`must be ${allowed}`);
  }
}

export interface OsloType<T> {
  /** The sample file's "(string value)" annotation, as oslo-config-generator writes it. */
  readonly label: string;
  readonly allowed: string;
  parse(raw: string): T;
  /** Renders a value back as an INI string (sample file, check-config). */
  format(value: T): string;
  /** Checks an already typed value (a default) against the same constraints parse() enforces. */
  check(value: T): void;
}

const TRUE_VALUES = ['true', '1', 'on', 'yes'];
const FALSE_VALUES = ['false', '0', 'off', 'no'];

function checkChoices<T>(value: T, choices: readonly T[] | undefined, allowed: string): void {
  if (choices && !choices.includes(value)) throw new InvalidOptionValue(allowed);
}

function describeChoices(choices: readonly string[]): string {
  return `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
}

export function stringType<C extends string = string>(choices?: readonly C[]): OsloType<C> {
  const allowed = choices ? describeChoices(choices) : 'a string';
  return {
    label: 'string value',
    allowed,
    parse(raw) {
      checkChoices(raw as C, choices, allowed);
      return raw as C;
    },
    format: (value) => value,
    check: (value) => checkChoices(value, choices, allowed),
  };
}

export const booleanType: OsloType<boolean> = {
  label: 'boolean value',
  allowed: `a boolean (${[...TRUE_VALUES, ...FALSE_VALUES].join(', ')}; any case)`,
  parse(raw) {
    const lowered = raw.trim().toLowerCase();
    if (TRUE_VALUES.includes(lowered)) return true;
    if (FALSE_VALUES.includes(lowered)) return false;
    throw new InvalidOptionValue(this.allowed);
  },
  format: (value) => (value ? 'true' : 'false'),
  check: () => undefined,
};

export function integerType(bounds: { min?: number; max?: number } = {}): OsloType<number> {
  const { min, max } = bounds;
  const range =
    min !== undefined && max !== undefined
      ? ` between ${min} and ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : max !== undefined
          ? ` of at most ${max}`
          : '';
  const allowed = `an integer${range}`;
  const check = (value: number): void => {
    if (!Number.isSafeInteger(value)) throw new InvalidOptionValue(allowed);
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) throw new InvalidOptionValue(allowed);
  };
  return {
    label: 'integer value',
    allowed,
    parse(raw) {
      const trimmed = raw.trim();
      if (!/^[+-]?\d+$/.test(trimmed)) throw new InvalidOptionValue(allowed);
      const value = Number(trimmed);
      check(value);
      return value;
    },
    format: (value) => String(value),
    check,
  };
}

export const portType: OsloType<number> = { ...integerType({ min: 0, max: 65535 }), label: 'port value' };

/**
 * FloatOpt that may be unset (default None; an empty value in the file is unset too, as oslo parses it).
 * Stricter than Python's float(): nan and inf are refused, as no option here can mean them.
 */
export function optionalFloatType(bounds: { min: number }): OsloType<number | null> {
  const allowed = `a number of at least ${bounds.min}, or nothing for unset`;
  const check = (value: number | null): void => {
    if (value !== null && (!Number.isFinite(value) || value < bounds.min)) throw new InvalidOptionValue(allowed);
  };
  return {
    label: 'floating point value',
    allowed,
    parse(raw) {
      const trimmed = raw.trim();
      if (trimmed === '') return null;
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) throw new InvalidOptionValue(allowed);
      const value = Number(trimmed);
      check(value);
      return value;
    },
    format: (value) => (value === null ? '' : pythonFloat(value)),
    check,
  };
}

/** As Python prints a float: 16.0, not 16. */
function pythonFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** FloatOpt with a default. */
export function floatType(bounds: { min: number }): OsloType<number> {
  const optional = optionalFloatType(bounds);
  const allowed = `a number of at least ${bounds.min}`;
  return {
    ...optional,
    allowed,
    parse(raw) {
      const value = optional.parse(raw);
      if (value === null) throw new InvalidOptionValue(allowed);
      return value;
    },
    format: pythonFloat,
    check: (value) => optional.check(value),
  };
}

function listOf<C extends string>(allowed: string, checkItem: (item: C) => void): OsloType<C[]> {
  const check = (value: C[]): void => value.forEach(checkItem);
  return {
    label: 'list value',
    allowed,
    parse(raw) {
      const value = raw.trim() === '' ? [] : (raw.split(',').map((item) => item.trim()) as C[]);
      check(value);
      return value;
    },
    format: (value) => value.join(','),
    check,
  };
}

/** ListOpt: comma-separated, items stripped, empty string is the empty list (oslo_config.types.List). */
export function listType<C extends string = string>(itemChoices?: readonly C[]): OsloType<C[]> {
  const allowed = itemChoices ? `a comma-separated list of ${describeChoices(itemChoices)}` : 'a comma-separated list';
  return listOf<C>(allowed, (item) => checkChoices(item, itemChoices, allowed));
}

/** A ListOpt whose items are KEY=VALUE pairs, like [libvirt] hw_machine_type = x86_64=q35,aarch64=virt. */
export function pairListType(example: string): OsloType<string[]> {
  const allowed = `a comma-separated list of KEY=VALUE pairs, e.g. ${example}`;
  return listOf<string>(allowed, (item) => {
    if (!/^[^=\s]+=[^=\s]+$/.test(item)) throw new InvalidOptionValue(allowed);
  });
}

/** A string that may be unset (oslo's default=None); an empty value in the file also means unset. */
export function optionalStringType<C extends string = string>(choices?: readonly C[]): OsloType<C | null> {
  const allowed = choices ? `${describeChoices(choices)}, or nothing for unset` : 'a string';
  const check = (value: C | null): void => {
    if (value !== null) checkChoices(value, choices, allowed);
  };
  return {
    label: 'string value',
    allowed,
    parse(raw) {
      const value = raw === '' ? null : (raw as C);
      check(value);
      return value;
    },
    format: (value) => value ?? '',
    check,
  };
}

/** HostDomainOpt: a hostname, FQDN or IP address (oslo_config.types.HostDomain, simplified to RFC 1123). */
export const hostDomainType: OsloType<string> = {
  label: 'host domain value',
  allowed: 'a hostname, FQDN or IP address (letters, digits, "-", "_", "." and ":"; labels of 1-63 characters)',
  parse(raw) {
    this.check(raw);
    return raw;
  },
  format: (value) => value,
  check(value) {
    const ipv6 = value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value);
    const hostname =
      value.length > 0 && value.length <= 253 && value.split('.').every((label) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label));
    if (!ipv6 && !hostname) throw new InvalidOptionValue(this.allowed);
  },
};
