import { requiredBy } from '../../src/configdrive/required-by.js';

const noProperties = { properties: {} };

test.each([
  // config_drive, launched_at, force_config_drive, img_config_drive, required
  ['True', null, false, undefined, true],
  ['', null, false, undefined, false],
  ['', null, true, undefined, true],
  ['', '2026-01-01T00:00:00Z', true, undefined, false],
  ['True', '2026-01-01T00:00:00Z', false, undefined, true],
  ['', null, false, 'mandatory', true],
  ['', '2026-01-01T00:00:00Z', false, 'mandatory', true],
  ['', null, false, 'optional', false],
] as const)('config_drive=%j launched_at=%j force=%j img_config_drive=%j -> %j', (configDrive, launchedAt, force, property, required) => {
  const image = property === undefined ? noProperties : { properties: { img_config_drive: property } };
  expect(requiredBy({ config_drive: configDrive, launched_at: launchedAt }, image, { force_config_drive: force })).toBe(required);
});
