import { describeValue } from '../../src/nova/describe-value.js';
import { configDriveValue, decodeUserData, USER_DATA_MAX_LENGTH } from '../../src/nova/validate.js';
import { runPython } from '../metadata/python.js';
import { expectInvalid } from './expect-invalid.js';

/**
 * Nova's API side of config_drive: the values its schema admits (parameter_types.boolean), each turned
 * into Instance.config_drive by compute/api.py _check_config_drive (True is stored as the string "True").
 */
const NOVA_CONFIG_DRIVE = `
import json
from unittest import mock
from nova.api.validation import parameter_types
from nova.compute import api
check = api.API._check_config_drive
values = parameter_types.boolean['enum'] + ['', None]
print(json.dumps([[value, str(check(mock.sentinel.api, value))] for value in values]))
`;

test("config_drive: every value Nova's API admits means what _check_config_drive makes of it", async () => {
  const nova = JSON.parse(await runPython(['-c', NOVA_CONFIG_DRIVE], null)) as [unknown, string][];
  expect(nova.length).toBeGreaterThan(20);
  for (const [value, stored] of nova) expect([value, configDriveValue(value, 'config_drive')]).toEqual([value, stored]);
});

test.each(['t', 'y', 'enabled', 'False ', 2, {}, '0b6f4d0e-4bb8-4f7a-9b47-7d2f6c5e9a01'])('config_drive %j is refused', (value) => {
  expectInvalid(() => configDriveValue(value, 'instance.config_drive'), 'instance.config_drive', value);
});

test("user_data: Nova's limit is on the base64 text", () => {
  expect(decodeUserData(null, 'user_data')).toBeNull();
  expect(decodeUserData(`${'QUJD'.repeat(16383)}==\n`.slice(0, USER_DATA_MAX_LENGTH), 'user_data')).toHaveLength(49149);
  const tooLong = `${'QUJD'.repeat(16384)}`;
  const error = expectInvalid(() => decodeUserData(tooLong, 'user_data'), 'user_data', tooLong);
  expect(error.message).toContain('65535');
});

test.each([
  [undefined, 'nothing'],
  ['', '""'],
  [null, 'null'],
  ['1', '"1"'],
  [1, '1'],
  ['tab\there', '"tab\\there"'],
  ['\ud800', '"\\ud800"'],
  [Buffer.from('abc'), '3 bytes'],
  ['x'.repeat(100), `"${'x'.repeat(79)}… (102 characters)`],
])('describeValue(%j) = %s', (value, shown) => {
  expect(describeValue(value)).toBe(shown);
});
