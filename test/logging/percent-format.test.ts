/** Python's `format % mapping`, the language of oslo.log's format options, against Python itself. */
import { execFileSync } from 'node:child_process';
import { FormatStringError, percentFormat, type PyValue } from '../../src/logging/percent-format.js';
import { parseLevelPair } from '../../src/logging/levels.js';
import { DEBIAN_PYTHON } from '../metadata/python.js';

const VALUES: Record<string, PyValue> = { s: 'text', n: 42, neg: -7, f: 3.14159, ms: 7, none: null, yes: true, no: false, empty: '' };

const FORMATS = [
  '%(s)s %(n)d %(neg)d %(f)s %(none)s %(yes)s %(no)s [%(empty)s]',
  '%(n)05d|%(neg)05d|%(n)-5d|%(n)5d|%(n)+d|%(n) d',
  '%(s)10s|%(s)-10s|%(s).2s|%(s)r|%(none)r',
  '%(f)f|%(f).2f|%(f)8.3f|%(f)08.3f|%(ms)03d|%(f)d|%(f)i',
  '100%% %(s)s %%(s)s',
  'no placeholders at all',
];

test.each(FORMATS)('%s', (format) => {
  const python = execFileSync(DEBIAN_PYTHON, ['-c', 'import json, sys; f, v = json.load(sys.stdin); sys.stdout.write(f % v)'], {
    input: JSON.stringify([format, VALUES]),
  }).toString();
  expect(percentFormat(format, VALUES)).toBe(python);
});

test.each([
  ['%(missing)s', /%\(missing\)s: no such key/],
  ['%s', /only %\(name\)s-style/],
  ['%(s)q', /unsupported conversion/],
  ['trailing %', /only %\(name\)s-style/],
  ['%(s)d', /needs a number, not 'text'/],
])('%j is refused: %s', (format, reason) => {
  expect(() => percentFormat(format, VALUES)).toThrow(FormatStringError);
  expect(() => percentFormat(format, VALUES)).toThrow(reason);
});

test.each([
  ['amqp=WARN', { logger: 'amqp', level: 30 }],
  ['nova_spawnd.bus=debug', null],
  ['nova_spawnd.bus=DEBUG', { logger: 'nova_spawnd.bus', level: 10 }],
  ['x=5', { logger: 'x', level: 5 }],
  ['x=TRACE', { logger: 'x', level: 5 }],
  ['x', null],
  ['=INFO', null],
])('default_log_levels item %j', (item, expected) => {
  // Python's setLevel takes the upper-case names and integers only.
  if (expected) expect(parseLevelPair(item)).toEqual(expected);
  else expect(() => parseLevelPair(item)).toThrow(/is not logger=LEVEL/);
});
