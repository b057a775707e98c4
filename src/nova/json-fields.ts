import { InvalidComputeRequest } from './invalid-compute-request.js';

/**
 * Typed reads of decoded JSON, each failure an InvalidComputeRequest naming the path. Both request forms
 * (Nova's wire objects and our plain request) read through here, so a type rule holds the same way in both.
 */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `instance` + `uuid` -> `instance.uuid`; `files` + 1 -> `files[1]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** A key of a free-form map (metadata, extra_specs): bracketed, since such keys may hold dots or spaces. */
export function entryPath(parent: string, key: string): string {
  return `${parent}[${JSON.stringify(key)}]`;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** JSON's \ud800 escapes can smuggle a lone surrogate into a string; such text has no UTF-8 form. */
export function expectString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new InvalidComputeRequest(path, value, 'must be a string');
  if (LONE_SURROGATE.test(value)) throw new InvalidComputeRequest(path, value, 'is not valid Unicode (lone surrogate), so has no UTF-8 form');
  return value;
}

export function expectInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new InvalidComputeRequest(path, value, 'must be an integer');
  return value;
}

export function expectBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidComputeRequest(path, value, 'must be true or false');
  return value;
}

export function expectObject(value: unknown, path: string): JsonObject {
  if (!isJsonObject(value)) throw new InvalidComputeRequest(path, value, 'must be an object');
  return value;
}

export function expectList(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidComputeRequest(path, value, 'must be a list');
  return value;
}

/**
 * Reads one object's fields. Absent and null are told apart as Nova's fields do: a field that is not set
 * takes the default given here, null is accepted only where the field is nullable.
 */
export class Fields {
  constructor(
    readonly data: JsonObject,
    readonly path: string,
  ) {}

  static of(value: unknown, path: string): Fields {
    return new Fields(expectObject(value, path), path);
  }

  at(key: string): string {
    return childPath(this.path, key);
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.data, key);
  }

  raw(key: string): unknown {
    return this.has(key) ? this.data[key] : undefined;
  }

  required(key: string): unknown {
    if (!this.has(key)) throw new InvalidComputeRequest(this.at(key), undefined, 'is missing');
    return this.data[key];
  }

  string(key: string, absent?: string): string {
    if (!this.has(key) && absent !== undefined) return absent;
    return expectString(this.required(key), this.at(key));
  }

  nullableString(key: string, absent: string | null = null): string | null {
    const value = this.has(key) ? this.data[key] : absent;
    return value === null ? null : expectString(value, this.at(key));
  }

  integer(key: string, absent?: number): number {
    if (!this.has(key) && absent !== undefined) return absent;
    return expectInteger(this.required(key), this.at(key));
  }

  nullableInteger(key: string): number | null {
    const value = this.raw(key) ?? null;
    return value === null ? null : expectInteger(value, this.at(key));
  }

  nullableDateTime(key: string): string | null {
    const value = this.raw(key) ?? null;
    return value === null ? null : expectDateTime(value, this.at(key));
  }

  boolean(key: string, absent: boolean): boolean {
    return this.has(key) ? expectBoolean(this.data[key], this.at(key)) : absent;
  }

  object(key: string): Fields {
    return Fields.of(this.required(key), this.at(key));
  }

  /** Absent -> []. */
  list(key: string): unknown[] {
    return this.has(key) ? expectList(this.data[key], this.at(key)) : [];
  }

  /**
   * Absent -> {}. With `dropNulls`, null values are left out (readers of Nova's DictOfNullableStringsField
   * skip them); with `othersAsJson`, any other non-string value is kept as its JSON text.
   */
  stringMap(key: string, { dropNulls = false, othersAsJson = false } = {}): Record<string, string> {
    if (!this.has(key)) return {};
    const map = expectObject(this.data[key], this.at(key));
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(map)) {
      const path = entryPath(this.at(key), name);
      expectString(name, path);
      if (value === null && dropNulls) continue;
      result[name] = typeof value !== 'string' && othersAsJson ? JSON.stringify(value) : expectString(value, path);
    }
    return result;
  }

  /** For our own plain format, where an unknown key is far more likely a typo than a newer field. */
  onlyKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.data)) {
      if (!allowed.includes(key)) throw new InvalidComputeRequest(this.at(key), this.data[key], 'is not a known field');
    }
  }
}

const ISO_8601 = /^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?$/;

/**
 * An ISO 8601 date and time (DateTimeField primitives are oslo's isotime(): "2024-05-01T12:00:00Z"),
 * returned in that same UTC form. Without an offset the time is UTC, as Nova's tz-aware fields read it.
 */
export function expectDateTime(value: unknown, path: string): string {
  const match = ISO_8601.exec(expectString(value, path));
  const time = match ? Date.parse(`${match[1]}T${match[2]}${match[3] ?? ''}${offset(match[4])}`) : NaN;
  if (Number.isNaN(time)) throw new InvalidComputeRequest(path, value, 'is not an ISO 8601 date and time');
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function offset(zone: string | undefined): string {
  if (zone === undefined || zone === 'Z') return 'Z';
  return zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
}

/** JSON text inside a field (InstanceInfoCache.network_info is a NetworkModel: the VIF list as a string). */
export function parseJsonField(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidComputeRequest(path, text, `is not JSON: ${(error as Error).message}`);
  }
}
