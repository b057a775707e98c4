/**
 * python-json against CPython's json module itself: every expected string is produced by /usr/bin/python3
 * during the test (json.dumps of the same value, json.loads + dumps of the same text).
 */
import { dumpAsBytes, dumps, loads, PyFloat, PythonJsonError, pyFloatRepr, type JsonValue } from '../../src/metadata/python-json.js';
import { runPython } from './python.js';

/** [TypeScript value, the same value as a Python expression]. */
const DUMPS_CASES: readonly (readonly [JsonValue, string])[] = [
  [null, 'None'],
  [true, 'True'],
  [false, 'False'],
  ['', "''"],
  ['plain ASCII ~ !', "'plain ASCII ~ !'"],
  ['é ü ß 東京', "'é ü ß 東京'"],
  ['emoji 😀 🚀 and 𝄞', "'emoji 😀 🚀 and 𝄞'"],
  ['\u0000\u0001\u0008\t\n\u000b\u000c\r\u001f \u007f\u0080\u00ff', "'\\x00\\x01\\x08\\t\\n\\x0b\\x0c\\r\\x1f \\x7f\\x80\\xff'"],
  ['"quoted" back\\slash /slash', "'\"quoted\" back\\\\slash /slash'"],
  ['</script><!--', "'</script><!--'"],
  ['\u2028\u2029\ufeff\uffff', "'\\u2028\\u2029\\ufeff\\uffff'"],
  ['lone \ud800 surrogate', "'lone \\ud800 surrogate'"],
  [0, '0'],
  [-0, '0'],
  [42, '42'],
  [-7, '-7'],
  [Number.MAX_SAFE_INTEGER, '2**53 - 1'],
  [2 ** 53 + 2, 'float(2**53 + 2)'],
  [1e21, '1e21'],
  [2n ** 53n + 2n, '2**53 + 2'],
  [12345678901234567890123n, '12345678901234567890123'],
  [-(2n ** 70n), '-(2**70)'],
  [0.1, '0.1'],
  [1.5, '1.5'],
  [-2.25, '-2.25'],
  [new PyFloat(1), '1.0'],
  [new PyFloat(-0), '-0.0'],
  [new PyFloat(0), '0.0'],
  [new PyFloat(1e16), '1e16'],
  [new PyFloat(1e15), '1e15'],
  [new PyFloat(123456789012345680), '123456789012345680.0'],
  [1e-4, '1e-4'],
  [1e-5, '1e-5'],
  [0.00012345, '0.00012345'],
  [1.5e300, '1.5e300'],
  [5e-324, '5e-324'],
  [Number.MAX_VALUE, '1.7976931348623157e308'],
  [new PyFloat(NaN), "float('nan')"],
  [new PyFloat(Infinity), "float('inf')"],
  [new PyFloat(-Infinity), "float('-inf')"],
  [[], '[]'],
  [{}, '{}'],
  [[1, [2, [3, []]], {}], '[1, [2, [3, []]], {}]'],
  [{ b: 1, a: [null, true], 'é': { '': '' } }, "{'b': 1, 'a': [None, True], 'é': {'': ''}}"],
  [new Map<string, JsonValue>([['10', 'ten'], ['2', 'two'], ['a', 'A']]), "{'10': 'ten', '2': 'two', 'a': 'A'}"],
];

/** Texts for json.loads; each is re-dumped on both sides. */
const LOADS_CASES: readonly string[] = [
  '{"b": 1, "a": 2, "b": 3}',
  '{"10": "ten", "2": "two", "z": {"1": 1, "0": 0}}',
  '[1, 1.0, 1E5, 1e-7, -0, -0.0, 12345678901234567890123456789, 1e400, -1e400]',
  '[NaN, Infinity, -Infinity]',
  ' \t\n\r{ "a" : [ 1 , 2 ] , "b" : { } , "c" : [ ] }\n ',
  '"\\u00e9\\ud83d\\ude00\\ud800\\/\\b\\f\\n\\r\\t\\"\\\\"',
  '"raw é 😀 \u007f"',
  '0',
  'null',
  '[true, false, null, "x"]',
  '{"deep": [[[[[[{"x": [0.5]}]]]]]]}',
];

/** Texts both parsers reject. */
const INVALID_TEXTS: readonly string[] = [
  '',
  '   ',
  '{',
  '[1,]',
  '{"a": 1,}',
  "{'a': 1}",
  '{"a" 1}',
  '[1 2]',
  '01',
  '1.',
  '.5',
  '+1',
  '-',
  '1e',
  'nan',
  'infinity',
  'True',
  '"unterminated',
  '"bad \\x escape"',
  '"bad \\u12 escape"',
  '"tab\tinside"',
  '{"a": 1} extra',
  '[1] [2]',
  '\ufeff{}',
];

describe('dumps() vs Python json.dumps', () => {
  test('every value of the table writes as CPython writes it', async () => {
    const script = 'import json,sys; print(json.dumps([json.dumps(eval(e)) for e in json.load(sys.stdin)]))';
    const expected = JSON.parse(await runPython(['-c', script], DUMPS_CASES.map(([, python]) => python))) as string[];
    expect(DUMPS_CASES.map(([value]) => dumps(value))).toEqual(expected);
  });

  test('float repr of 3000 pseudo-random doubles of every magnitude', async () => {
    const view = new DataView(new ArrayBuffer(8));
    let state = 0x2545f4914f6cdd1dn;
    const doubles: number[] = [];
    while (doubles.length < 3000) {
      // xorshift64: deterministic bit patterns, so every run checks the same numbers.
      state ^= (state << 13n) & 0xffffffffffffffffn;
      state ^= state >> 7n;
      state ^= (state << 17n) & 0xffffffffffffffffn;
      view.setBigUint64(0, state);
      const value = view.getFloat64(0);
      if (Number.isFinite(value)) doubles.push(value);
    }
    const script = 'import json,sys; print(json.dumps([repr(float.fromhex(h)) for h in json.load(sys.stdin)]))';
    const hex = doubles.map((value) => {
      view.setFloat64(0, value);
      const bits = view.getBigUint64(0);
      const sign = bits >> 63n ? '-' : '';
      const exponent = Number((bits >> 52n) & 0x7ffn);
      const mantissa = (bits & 0xfffffffffffffn).toString(16).padStart(13, '0');
      return exponent === 0 ? `${sign}0x0.${mantissa}p-1022` : `${sign}0x1.${mantissa}p${exponent - 1023}`;
    });
    const expected = JSON.parse(await runPython(['-c', script], hex)) as string[];
    expect(doubles.map(pyFloatRepr)).toEqual(expected);
  });

  test('dumpAsBytes is the ASCII of dumps', () => {
    expect(Buffer.from(dumpAsBytes({ name: 'é' })).toString('latin1')).toBe('{"name": "\\u00e9"}');
  });
});

describe('loads() vs Python json.loads', () => {
  test('types, key order and duplicate keys survive a round trip as in Python', async () => {
    const script = 'import json,sys; print(json.dumps([json.dumps(json.loads(t)) for t in json.load(sys.stdin)]))';
    const expected = JSON.parse(await runPython(['-c', script], LOADS_CASES)) as string[];
    expect(LOADS_CASES.map((text) => dumps(loads(text)))).toEqual(expected);
  });

  test('integers are bigints and other numbers PyFloats; objects are Maps', () => {
    expect(loads('[7, 7.0, 1e2]')).toEqual([7n, new PyFloat(7), new PyFloat(100)]);
    expect(loads('{"2": 0, "1": 0}')).toEqual(new Map([['2', 0n], ['1', 0n]]));
  });

  test('what Python rejects is rejected', async () => {
    const script =
      'import json,sys\n' +
      'def ok(t):\n' +
      '    try:\n        json.loads(t)\n        return True\n' +
      '    except ValueError:\n        return False\n' +
      'print(json.dumps([ok(t) for t in json.load(sys.stdin)]))';
    const pythonAccepts = JSON.parse(await runPython(['-c', script], INVALID_TEXTS)) as boolean[];
    expect(pythonAccepts).toEqual(INVALID_TEXTS.map(() => false));
    for (const text of INVALID_TEXTS) {
      expect(() => loads(text)).toThrow(PythonJsonError);
    }
  });

  test('an error names the position', () => {
    expect(() => loads('[1, 2,, 3]')).toThrow('Expecting value at char 6');
  });
});
