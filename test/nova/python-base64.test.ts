import { pythonB64Decode } from '../../src/nova/python-base64.js';
import { runPython } from '../metadata/python.js';

/** base64.b64decode as Nova calls it; null where it raises (binascii.Error, or ValueError for non-ASCII). */
const PYTHON = `
import base64, json, sys
def decode(text):
    try:
        return base64.b64decode(text).hex()
    except ValueError:
        return None
print(json.dumps([decode(text) for text in json.load(sys.stdin)]))
`;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const HAND_PICKED = [
  '', 'aGk=', 'aGk', 'aGk=garbage', 'a', 'ab=c=', 'YQ==YQ==', '=aGk=', 'aG\nk=', 'a!G@k#=', 'YWJj', 'YWJjZA', 'Y=Q==',
  'YQ=', '====', 'é', 'aGk=é', 'YWJjZA==\n', ' Y W J j ', 'YW=Jj', 'YWJ=j', 'Y===', 'YQ', 'YQ===', '-_-_', 'YWJjZA=',
  'YWJjZA=\n=', 'YWJjZGU=', 'YWJjZGU', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy\nMzQ1Njc4',
];

/** Deterministic noise over the alphabet, padding and a few skipped characters. */
function noise(count: number): string[] {
  let seed = 20240501;
  const next = (limit: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % limit;
  };
  const symbols = `${ALPHABET}====\n -_.`;
  return Array.from({ length: count }, () => Array.from({ length: next(14) }, () => symbols[next(symbols.length)]).join(''));
}

test('decodes and refuses exactly what Python 3.11 base64.b64decode does', async () => {
  const inputs = [...HAND_PICKED, ...noise(3000)];
  const python = JSON.parse(await runPython(['-c', PYTHON], inputs)) as (string | null)[];
  const ours = inputs.map((text) => {
    const result = pythonB64Decode(text);
    return 'bytes' in result ? result.bytes.toString('hex') : null;
  });
  expect(ours).toEqual(python);
  // Both outcomes occur often enough for the comparison to mean something.
  expect(python.filter((hex) => hex === null).length).toBeGreaterThan(500);
  expect(python.filter((hex) => hex !== null).length).toBeGreaterThan(500);
});

test.each([
  ['a', 'number of data characters (1) cannot be 1 more than a multiple of 4'],
  ['YWJjZA', 'incorrect padding'],
  ['aGk=é', 'string argument should contain only ASCII characters'],
])('%j is refused with the reason Python gives', (text, reason) => {
  expect(pythonB64Decode(text)).toEqual({ error: reason });
});
