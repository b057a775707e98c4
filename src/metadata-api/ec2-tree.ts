/**
 * The EC2 tree as Nova's metadata service walks and prints it (base.py find_path_in_tree and ec2_md_print):
 * a dict is a directory listing, a nested dict a "name/" entry (or its "_name", as public-keys/ shows
 * "0=KEYNAME"), a list one line per item, anything else its Python str().
 */
import { PyFloat, pyFloatRepr, type JsonObject, type JsonValue } from '../metadata/python-json.js';

/** What the tree holds: JSON values, and the raw user-data. */
export type Ec2TreeValue = JsonValue | Uint8Array | Ec2Directory;
export type Ec2Directory = ReadonlyMap<string, Ec2TreeValue>;

function isDirectory(value: Ec2TreeValue): value is Ec2Directory | JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof PyFloat);
}

function entries(directory: Ec2Directory | JsonObject): [string, Ec2TreeValue][] {
  return directory instanceof Map ? [...(directory as Ec2Directory)] : Object.entries(directory);
}

function child(directory: Ec2Directory | JsonObject, name: string): Ec2TreeValue | undefined {
  if (directory instanceof Map) return (directory as Ec2Directory).get(name);
  return Object.hasOwn(directory, name) ? (directory as { [key: string]: JsonValue })[name] : undefined;
}

/** Python's str() of a JSON scalar. */
function pyStr(value: JsonValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return pyFloatRepr(value);
  return String(value);
}

/**
 * find_path_in_tree: only directories can be descended into. Where Nova fails with a TypeError (a list or a
 * scalar indexed by name, answered 500) this is not found as well.
 */
export function findPathInTree(tree: Ec2Directory, tokens: readonly string[]): Ec2TreeValue | undefined {
  let node: Ec2TreeValue = tree;
  for (const token of tokens) {
    if (!isDirectory(node)) return undefined;
    const next = child(node, token);
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}

const encoder = new TextEncoder();

/** ec2_md_print, as the bytes of the response body. */
export function ec2MdPrint(value: Ec2TreeValue): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return encoder.encode(value.map((item) => pyStr(item as JsonValue)).join('\n'));
  if (!isDirectory(value)) return encoder.encode(pyStr(value as JsonValue));
  const lines: string[] = [];
  for (const [key, item] of entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (key === '_name') continue;
    if (!isDirectory(item)) lines.push(key);
    else {
      const name = child(item, '_name');
      lines.push(name === undefined ? `${key}/` : pyStr(name as JsonValue));
    }
  }
  return encoder.encode(lines.join('\n'));
}
