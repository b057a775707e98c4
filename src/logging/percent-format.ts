/**
 * Python's `format % mapping` (printf-style formatting with named keys), the language of oslo.log's format
 * options: `%(asctime)s.%(msecs)03d %(process)d ...`. Only named conversions and `%%`: oslo always formats
 * with a mapping. A format is parsed once; a bad one fails at configuration time, naming what is wrong.
 */

export class FormatStringError extends Error {
  override readonly name = 'FormatStringError';
}

/** A value as Python's str() prints it: None, True, False. */
export type PyValue = string | number | boolean | null;

interface Conversion {
  key: string;
  flags: string;
  width: number;
  precision: number | null;
  type: string;
}

type Token = string | Conversion;

const CONVERSION = /%(?:\(([^)]*)\))?([#0\- +]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])?/y;
const TYPES = 'sdifr';

const parsed = new Map<string, Token[]>();

function parse(format: string): Token[] {
  const cached = parsed.get(format);
  if (cached) return cached;
  const tokens: Token[] = [];
  let literal = '';
  let at = 0;
  while (at < format.length) {
    const percent = format.indexOf('%', at);
    if (percent === -1) {
      literal += format.slice(at);
      break;
    }
    literal += format.slice(at, percent);
    CONVERSION.lastIndex = percent;
    const match = CONVERSION.exec(format)!;
    const [whole, key, flags = '', width, precision, type] = match;
    at = percent + whole.length;
    if (type === '%' && whole === '%%') {
      literal += '%';
      continue;
    }
    if (key === undefined) throw new FormatStringError(`"${whole}" at ${percent}: only %(name)s-style conversions or %% (a mapping is formatted)`);
    if (type === undefined || !TYPES.includes(type)) throw new FormatStringError(`"${whole}" at ${percent}: unsupported conversion (one of ${[...TYPES].join(', ')})`);
    if (literal) tokens.push(literal);
    literal = '';
    tokens.push({ key, flags, width: width === undefined ? 0 : Number(width), precision: precision === undefined ? null : Number(precision), type });
  }
  if (literal) tokens.push(literal);
  parsed.set(format, tokens);
  return tokens;
}

const keysOf = new Map<string, ReadonlySet<string>>();

/** The names a format uses, so that a configured format can be checked against what a record offers. */
export function formatKeys(format: string): ReadonlySet<string> {
  let keys = keysOf.get(format);
  if (!keys) keysOf.set(format, (keys = new Set(parse(format).flatMap((token) => (typeof token === 'string' ? [] : [token.key])))));
  return keys;
}

/** str(value) in Python. */
export function pyStr(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

function pyRepr(value: PyValue): string {
  return typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'` : pyStr(value);
}

function convert(conversion: Conversion, value: PyValue): string {
  const { flags, width, precision, type, key } = conversion;
  let text: string;
  let numeric = false;
  if (type === 's' || type === 'r') {
    text = type === 's' ? pyStr(value) : pyRepr(value);
    if (precision !== null) text = text.slice(0, precision);
  } else {
    if (typeof value === 'string' || value === null) throw new FormatStringError(`%(${key})${type} needs a number, not ${pyRepr(value)}`);
    const number = Number(value);
    numeric = true;
    text = type === 'f' ? number.toFixed(precision ?? 6) : Math.trunc(number).toString();
    if (number >= 0 && flags.includes('+')) text = `+${text}`;
    else if (number >= 0 && flags.includes(' ')) text = ` ${text}`;
  }
  if (text.length >= width) return text;
  if (flags.includes('-')) return text.padEnd(width);
  if (numeric && flags.includes('0')) {
    const sign = /^[-+ ]/.test(text) ? text[0]! : '';
    return sign + text.slice(sign.length).padStart(width - sign.length, '0');
  }
  return text.padStart(width);
}

/** `format % values`; a key the mapping lacks is a FormatStringError (Python's KeyError). */
export function percentFormat(format: string, values: Readonly<Record<string, PyValue | undefined>>): string {
  let out = '';
  for (const token of parse(format)) {
    if (typeof token === 'string') {
      out += token;
      continue;
    }
    const value = values[token.key];
    if (value === undefined) throw new FormatStringError(`%(${token.key})${token.type}: no such key`);
    out += convert(token, value);
  }
  return out;
}
