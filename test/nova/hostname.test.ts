import { defaultHostname, isValidHostname, sanitizeHostname } from '../../src/nova/hostname.js';
import { runPython } from '../metadata/python.js';

/** Nova's own sanitize_hostname, and the hostname pattern of its API (microversion 2.90). */
const NOVA = `
import json, re, sys
from nova import utils
from nova.api.validation import parameter_types
names = json.load(sys.stdin)
pattern = parameter_types.hostname['pattern']
print(json.dumps({
    'sanitized': [utils.sanitize_hostname(name) for name in names],
    'api_accepts': [bool(re.search(pattern, name)) and 2 <= len(name) <= 63 for name in names],
    'latin1_word': ''.join(chr(i) for i in range(256) if re.match(r'\\w', chr(i))),
}))
`;

const NAMES = [
  'web-1', 'Web Server 01', 'Über server ☃ 🚀', 'a_b.c d', '..leading.and.trailing..', '---', '', '☃☃☃', 'ÆØÅ æøå ß ÿ',
  'x'.repeat(80), `${'y'.repeat(62)}_z`, 'tab\tand\nnewline', 'µ-ª-º-²-¼', 'MiXeD.CaSe_Name', '1234', 'a', 'İstanbul', 'naïve café',
  'a--b', 'trailing-', 'emoji 🚀 only', 'Server-6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10',
];

describe('hostnames', () => {
  let nova: { sanitized: string[]; api_accepts: boolean[]; latin1_word: string };
  beforeAll(async () => {
    nova = JSON.parse(await runPython(['-c', NOVA], NAMES));
  });

  test("sanitizeHostname gives what Nova's sanitize_hostname gives", () => {
    expect(NAMES.map(sanitizeHostname)).toEqual(nova.sanitized);
  });

  test('every non-empty hostname Nova derives from a name is valid', () => {
    for (const hostname of nova.sanitized.filter((name) => name !== '')) expect([hostname, isValidHostname(hostname)]).toEqual([hostname, true]);
  });

  test("every hostname Nova's API accepts is valid", () => {
    NAMES.forEach((name, index) => {
      if (nova.api_accepts[index]) expect([name, isValidHostname(name)]).toEqual([name, true]);
    });
  });

  test("the accepted letters and digits are Python's \\w over Latin-1, less the underscore", () => {
    const accepted = Array.from({ length: 256 }, (_, code) => String.fromCharCode(code)).filter((character) => isValidHostname(character));
    expect(accepted.join('')).toBe(nova.latin1_word.replace('_', ''));
  });

  test.each(['', '-a', 'a-', 'a.b', 'a_b', 'a b', 'İstanbul', 'x'.repeat(64), 'web\n', 'caf\u00e9\u0301'])('%j is refused', (hostname) => {
    expect(isValidHostname(hostname)).toBe(false);
  });

  test('an empty sanitized name falls back to Server-<uuid>, as the API does', () => {
    expect(defaultHostname('☃', '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10')).toBe('Server-6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10');
    expect(defaultHostname('Web 1', '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10')).toBe('web-1');
  });
});
