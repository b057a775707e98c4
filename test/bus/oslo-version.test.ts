import { versionIsCompatible } from '../../src/bus/oslo-version.js';
import { runPython } from '../metadata/python.js';

/** oslo.messaging's own version_is_compatible; a version it cannot parse (int() raises) counts as incompatible. */
const OSLO = `
import json, sys
from oslo_messaging import _utils
def compatible(implemented, requested):
    try:
        return _utils.version_is_compatible(implemented, requested)
    except (ValueError, IndexError):
        return False
print(json.dumps([compatible(i, r) for i, r in json.load(sys.stdin)]))
`;

const PAIRS: [string, string][] = [
  ['2.0', '2.0'], ['2.0', '2.0.0'], ['2.0', '2.0.1'], ['2.0', '2.1'], ['2.0', '1.0'], ['2.0', '3.0'], ['2.0', '02.00'],
  ['6.1', '6.0'], ['6.1', '6.1'], ['6.1', '6.2'], ['6.1', '5.13'], ['6.1', '6.0.5'], ['6.1', '6.1.1'],
  ['5.13', '5.0'], ['5.13', '5.11'], ['5.13', '5.13'], ['5.13', '5.14'], ['5.13', '5.9'], ['5.13', '5.10'],
  ['1.0', '1.0'], ['1.0', '1.1'], ['1.0', '2.0'], ['1.0', 'one'], ['1.0', '1'], ['1.0', ''], ['1.0', '1.x'],
];

test('versionIsCompatible answers as oslo.messaging does', async () => {
  const oslo = JSON.parse(await runPython(['-c', OSLO], PAIRS)) as boolean[];
  expect(PAIRS.map(([implemented, requested]) => versionIsCompatible(implemented, requested))).toEqual(oslo);
  // The table must exercise both answers.
  expect(new Set(oslo)).toEqual(new Set([true, false]));
});
