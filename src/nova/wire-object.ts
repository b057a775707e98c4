/**
 * A NovaObject as this compute holds one between calls to nova-conductor: the fields that are set, which of
 * them changed since the last reset, and the same primitive oslo.versionedobjects' obj_to_primitive makes:
 * {"nova_object.name", "nova_object.namespace": "nova", "nova_object.version", "nova_object.data",
 * "nova_object.changes" (only when something changed)}. The version is always the one of the Nova 26 table
 * (object-versions.ts), so the conductor reads what we send without a backport.
 *
 * Field values are kept as their JSON primitives (DateTimeField as oslo's isotime text, novaDateTime()),
 * except nested objects, which are WireObjects themselves (a ListOfObjectsField: an array of them).
 */
import { parseVersion } from '../bus/oslo-version.js';
import { novaObjectVersion } from './object-versions.js';

export class MalformedNovaObject extends Error {
  override readonly name = 'MalformedNovaObject';
  constructor(readonly path: string, readonly value: unknown, reason: string) {
    super(`${path}: ${reason} (got ${describe(value)})`);
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

const KEY = {
  name: 'nova_object.name',
  namespace: 'nova_object.namespace',
  version: 'nova_object.version',
  data: 'nova_object.data',
  changes: 'nova_object.changes',
} as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** What a field holds here: a JSON primitive, a nested object, or a list of nested objects. */
export type FieldValue = Json | WireObject | WireObject[];
export type FieldMap = Record<string, FieldValue>;

/** Whether `value` is a NovaObject primitive (a dict with nova_object.name), as oslo's serializer tests it. */
export function isNovaPrimitive(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && KEY.name in value;
}

/**
 * oslo's DateTimeField.to_primitive (utils.isotime): seconds precision, UTC as "Z". Nova's own clock
 * (timeutils.utcnow) keeps microseconds, but they never reach the wire.
 */
export function novaDateTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export class WireObject<F extends FieldMap = FieldMap> {
  private readonly fields = new Map<string, FieldValue>();
  private readonly changed = new Set<string>();

  /** Fields given here count as changed, as setattr on a new NovaObject does. */
  constructor(readonly objName: string, fields: Partial<F> = {}) {
    novaObjectVersion(objName);
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) this.set(key, value as F[keyof F & string]);
  }

  get version(): string {
    return novaObjectVersion(this.objName);
  }

  /** obj_attr_is_set. */
  has(field: keyof F & string): boolean {
    return this.fields.has(field);
  }

  /** The fields that are set. */
  setFields(): string[] {
    return [...this.fields.keys()];
  }

  /** The value, undefined when the field is not set (Nova would lazy-load it). */
  get<K extends keyof F & string>(field: K): F[K] | undefined {
    return this.fields.get(field) as F[K] | undefined;
  }

  /** The value of a field that must be set. */
  require<K extends keyof F & string>(field: K): F[K] {
    if (!this.fields.has(field)) throw new MalformedNovaObject(`${this.objName}.${field}`, undefined, 'is not set');
    return this.fields.get(field) as F[K];
  }

  /** setattr: marks the field changed even when the value is the same, as oslo does. */
  set<K extends keyof F & string>(field: K, value: F[K]): void {
    this.fields.set(field, value);
    this.changed.add(field);
  }

  /** What obj_load_attr leaves: the field set as read from the database, not as a change (nor its nested objects'). */
  load<K extends keyof F & string>(field: K, value: F[K]): void {
    this.fields.set(field, value);
    this.changed.delete(field);
    for (const item of Array.isArray(value) ? value : [value]) if (item instanceof WireObject) item.resetChanges();
  }

  /** Sets the field only when its value differs (deep JSON comparison); true when it did. */
  update<K extends keyof F & string>(field: K, value: F[K]): boolean {
    if (this.fields.has(field) && sameValue(this.fields.get(field)!, value)) return false;
    this.set(field, value);
    return true;
  }

  /** obj_what_changed: the fields set since the last reset, and those holding a nested object that changed. */
  whatChanged(): string[] {
    const changes = new Set(this.changed);
    for (const [field, value] of this.fields) if (value instanceof WireObject && value.whatChanged().length > 0) changes.add(field);
    return [...changes].sort();
  }

  /** obj_reset_changes(recursive=True). */
  resetChanges(): void {
    this.changed.clear();
    for (const value of this.fields.values()) {
      if (value instanceof WireObject) value.resetChanges();
      else if (Array.isArray(value)) for (const item of value) if (item instanceof WireObject) item.resetChanges();
    }
  }

  /** obj_to_primitive(): every set field in data, the changes when there are any. */
  toPrimitive(): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const [field, value] of this.fields) data[field] = valueToPrimitive(value);
    const changes = this.whatChanged();
    return {
      [KEY.name]: this.objName,
      [KEY.namespace]: 'nova',
      [KEY.version]: this.version,
      [KEY.data]: data,
      ...(changes.length > 0 ? { [KEY.changes]: changes } : {}),
    };
  }

  /** A plain copy of the set fields (nested objects as plain copies too), for logs and callers that want JSON. */
  toJSON(): Record<string, unknown> {
    const plain: Record<string, unknown> = {};
    for (const [field, value] of this.fields) plain[field] = valueToPlain(value);
    return plain;
  }

  /**
   * obj_from_primitive: a primitive of `expected` (any name when omitted), in the major version this
   * compute speaks; a newer minor is read too (minors only add fields). Its nova_object.changes are kept.
   */
  static fromPrimitive<F extends FieldMap = FieldMap>(primitive: unknown, path: string, expected?: string): WireObject<F> {
    if (!isNovaPrimitive(primitive)) throw new MalformedNovaObject(path, primitive, 'is not a NovaObject primitive');
    const name = primitive[KEY.name];
    if (typeof name !== 'string') throw new MalformedNovaObject(`${path}.${KEY.name}`, name, 'must be a string');
    if (expected !== undefined && name !== expected) throw new MalformedNovaObject(`${path}.${KEY.name}`, name, `must be ${expected}`);
    if (primitive[KEY.namespace] !== 'nova') throw new MalformedNovaObject(`${path}.${KEY.namespace}`, primitive[KEY.namespace], 'must be "nova"');
    let ours: string;
    try {
      ours = novaObjectVersion(name);
    } catch {
      throw new MalformedNovaObject(`${path}.${KEY.name}`, name, 'is not an object this compute reads');
    }
    const version = primitive[KEY.version];
    const theirs = typeof version === 'string' ? parseVersion(version) : null;
    if (theirs === null || theirs[0] !== parseVersion(ours)![0]) {
      throw new MalformedNovaObject(`${path}.${KEY.version}`, version, `is not a version of ${name} ${ours.split('.')[0]}.x`);
    }
    const data = primitive[KEY.data];
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new MalformedNovaObject(`${path}.${KEY.data}`, data, 'must be a dict');
    const object = new WireObject<F>(name);
    for (const [field, value] of Object.entries(data)) object.fields.set(field, valueFromPrimitive(value, `${path}.${field}`));
    const changes = primitive[KEY.changes];
    if (changes !== undefined) {
      if (!Array.isArray(changes) || !changes.every((change) => typeof change === 'string')) {
        throw new MalformedNovaObject(`${path}.${KEY.changes}`, changes, 'must be a list of field names');
      }
      for (const change of changes) object.changed.add(change);
    }
    return object;
  }

  /**
   * What oslo's remotable method does with object_action's answer: every field in `updates` takes the
   * conductor's value, then the changes are those the conductor's copy still had (obj_what_changed).
   */
  applyUpdates(updates: unknown, path: string): void {
    if (typeof updates !== 'object' || updates === null || Array.isArray(updates)) throw new MalformedNovaObject(path, updates, 'must be a dict of field updates');
    for (const [field, value] of Object.entries(updates)) {
      if (field === 'obj_what_changed') continue;
      this.fields.set(field, valueFromPrimitive(value, `${path}.${field}`));
    }
    this.resetChanges();
    const stillChanged = (updates as Record<string, unknown>)['obj_what_changed'];
    if (Array.isArray(stillChanged)) for (const field of stillChanged) if (typeof field === 'string') this.changed.add(field);
  }
}

function valueToPrimitive(value: FieldValue): unknown {
  if (value instanceof WireObject) return value.toPrimitive();
  if (Array.isArray(value)) return value.map((item) => (item instanceof WireObject ? item.toPrimitive() : item));
  return value;
}

function valueToPlain(value: FieldValue): unknown {
  if (value instanceof WireObject) return value.toJSON();
  if (Array.isArray(value)) return value.map((item) => (item instanceof WireObject ? item.toJSON() : item));
  return value;
}

function valueFromPrimitive(value: unknown, path: string): FieldValue {
  if (isNovaPrimitive(value)) return WireObject.fromPrimitive(value, path);
  if (Array.isArray(value) && value.length > 0 && value.every(isNovaPrimitive)) {
    return value.map((item, index) => WireObject.fromPrimitive(item, `${path}[${index}]`));
  }
  return value as Json;
}

function sameValue(left: FieldValue, right: FieldValue): boolean {
  return canonical(valueToPlain(left)) === canonical(valueToPlain(right));
}

/** JSON with every dict's keys sorted: equal values give equal texts. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
