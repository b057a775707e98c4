/**
 * Python's json module as oslo's jsonutils uses it: dumps() with the defaults (separators ", " and ": ",
 * ensure_ascii, allow_nan) and loads() with Python's types. Nova's documents must be byte-identical to what
 * Nova writes, and JavaScript's JSON differs in all of these: separators, non-ASCII, float formatting
 * (Python writes 1.0 and 1e+16), integers beyond 2^53 and the order of integer-like object keys.
 */

/**
 * A Python float. A plain JavaScript number is a Python int when it is a safe integer and a float otherwise
 * (an integral double beyond 2^53 is the result of float arithmetic; exact big integers are bigints).
 */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * A value json.dumps() can write. Objects are Python dicts: a Map keeps insertion order for every key
 * (a plain object puts integer-like keys first, so loads() returns Maps).
 */
export type JsonValue = null | boolean | string | number | bigint | PyFloat | readonly JsonValue[] | JsonObject;
export type JsonObject = ReadonlyMap<string, JsonValue> | { readonly [key: string]: JsonValue };

export class PythonJsonError extends Error {
  override readonly name = 'PythonJsonError';
  constructor(message: string, readonly position: number | null = null) {
    super(position === null ? message : `${message} at char ${position}`);
  }
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** What json's ESCAPE_ASCII leaves alone: printable ASCII but the quote and the backslash. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

function escapeCodeUnit(char: string): string {
  return SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * json's py_encode_basestring_ascii: everything outside ' '..'~' escaped, per UTF-16 code unit (the regexp
 * has no u flag, so a surrogate pair is two matches, as Python writes it). Most strings need no escape.
 */
function encodeString(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : `"${text.replace(NEEDS_ESCAPE, escapeCodeUnit)}"`;
}

/** float.__repr__: the shortest round-tripping digits, fixed notation while -4 < decimal point <= 16. */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  if (value === 0) return `${sign}0.0`;
  const [mantissa, exponent] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const decimalPoint = Number(exponent) + 1;
  if (decimalPoint > -4 && decimalPoint <= 16) {
    if (decimalPoint <= 0) return `${sign}0.${'0'.repeat(-decimalPoint)}${digits}`;
    if (decimalPoint >= digits.length) return `${sign}${digits}${'0'.repeat(decimalPoint - digits.length)}.0`;
    return `${sign}${digits.slice(0, decimalPoint)}.${digits.slice(decimalPoint)}`;
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
  const power = decimalPoint - 1;
  const powerText = String(Math.abs(power)).padStart(2, '0');
  return `${sign}${digits[0]}${fraction}e${power < 0 ? '-' : '+'}${powerText}`;
}

function encodeNumber(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : pyFloatRepr(value);
}

function entriesOf(value: JsonObject): Iterable<[string, JsonValue]> {
  return value instanceof Map ? value.entries() : Object.entries(value);
}

/** json.dumps(value) with Python's defaults, as jsonutils.dumps() calls it. */
export function dumps(value: JsonValue): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return encodeString(value);
  if (typeof value === 'number') return encodeNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map((item: JsonValue) => dumps(item)).join(', ')}]`;
  return `{${dumpsMembers(value as JsonObject).join(', ')}}`;
}

/** A dict's members as dumps() writes them between its braces, `"key": value` each, in order. */
export function dumpsMembers(value: JsonObject): string[] {
  const members: string[] = [];
  for (const [key, item] of entriesOf(value)) members.push(`${encodeString(key)}: ${dumps(item)}`);
  return members;
}

const encoder = new TextEncoder();

/** jsonutils.dump_as_bytes(value): dumps() encoded as UTF-8 (pure ASCII, as ensure_ascii makes it). */
export function dumpAsBytes(value: JsonValue): Uint8Array {
  return encoder.encode(dumps(value));
}

/** dumpAsBytes() of the dict whose members (from dumpsMembers) these are. */
export function dumpMembersAsBytes(members: readonly string[]): Uint8Array {
  return encoder.encode(`{${members.join(', ')}}`);
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const CONSTANTS: readonly (readonly [string, JsonValue])[] = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['NaN', new PyFloat(NaN)],
  ['Infinity', new PyFloat(Infinity)],
  ['-Infinity', new PyFloat(-Infinity)],
];

/** A recursive-descent twin of CPython's C scanner (strict mode): same accepted language, same types. */
class Scanner {
  private position = 0;
  constructor(private readonly text: string) {}

  document(): JsonValue {
    this.skipWhitespace();
    const value = this.value();
    this.skipWhitespace();
    if (this.position !== this.text.length) throw new PythonJsonError('Extra data', this.position);
    return value;
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.position;
    WHITESPACE.exec(this.text);
    this.position = WHITESPACE.lastIndex;
  }

  private value(): JsonValue {
    const char = this.text[this.position];
    if (char === '"') return this.string();
    if (char === '{') return this.object();
    if (char === '[') return this.array();
    for (const [literal, value] of CONSTANTS) {
      if (this.text.startsWith(literal, this.position)) {
        this.position += literal.length;
        return value;
      }
    }
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (!match) throw new PythonJsonError('Expecting value', this.position);
    this.position = NUMBER.lastIndex;
    if (match[1] === undefined && match[2] === undefined) return BigInt(match[0]);
    return new PyFloat(Number(match[0]));
  }

  private string(): string {
    const start = this.position;
    this.position++;
    let out = '';
    for (;;) {
      if (this.position >= this.text.length) {
        throw new PythonJsonError('Unterminated string starting', start);
      }
      const char = this.text[this.position]!;
      if (char === '"') {
        this.position++;
        return out;
      }
      if (char.charCodeAt(0) < 0x20) throw new PythonJsonError('Invalid control character', this.position);
      if (char !== '\\') {
        out += char;
        this.position++;
        continue;
      }
      const escape = this.text[this.position + 1];
      if (escape === 'u') {
        const hex = this.text.slice(this.position + 2, this.position + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PythonJsonError('Invalid \\uXXXX escape', this.position + 1);
        out += String.fromCharCode(parseInt(hex, 16));
        this.position += 6;
        continue;
      }
      const simple = escape === undefined ? undefined : SIMPLE_ESCAPES[escape];
      if (simple === undefined) throw new PythonJsonError('Invalid \\escape', this.position);
      out += simple;
      this.position += 2;
    }
  }

  private object(): Map<string, JsonValue> {
    this.position++;
    const object = new Map<string, JsonValue>();
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position++;
      return object;
    }
    for (;;) {
      if (this.text[this.position] !== '"') {
        throw new PythonJsonError('Expecting property name enclosed in double quotes', this.position);
      }
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.position] !== ':') throw new PythonJsonError("Expecting ':' delimiter", this.position);
      this.position++;
      this.skipWhitespace();
      // dict semantics: a repeated key keeps its first position and takes the last value.
      object.set(key, this.value());
      this.skipWhitespace();
      const delimiter = this.text[this.position];
      this.position++;
      if (delimiter === '}') return object;
      if (delimiter !== ',') throw new PythonJsonError("Expecting ',' delimiter", this.position - 1);
      this.skipWhitespace();
    }
  }

  private array(): JsonValue[] {
    this.position++;
    const array: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position++;
      return array;
    }
    for (;;) {
      array.push(this.value());
      this.skipWhitespace();
      const delimiter = this.text[this.position];
      this.position++;
      if (delimiter === ']') return array;
      if (delimiter !== ',') throw new PythonJsonError("Expecting ',' delimiter", this.position - 1);
      this.skipWhitespace();
    }
  }
}

/** json.loads(text): objects become Maps (dict order), integers bigints, other numbers PyFloats. */
export function loads(text: string): JsonValue {
  return new Scanner(text).document();
}
