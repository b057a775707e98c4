import { InvalidSpawnRequest } from '../../src/nova/invalid-spawn-request.js';

/**
 * Runs `decode` and checks it fails with InvalidSpawnRequest for `field`, carrying `value`, and that the
 * message a log reader sees names both.
 */
export function expectInvalid(decode: () => unknown, field: string, value: unknown): InvalidSpawnRequest {
  let caught: unknown;
  try {
    decode();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidSpawnRequest);
  const error = caught as InvalidSpawnRequest;
  expect(error.name).toBe('InvalidSpawnRequest');
  expect({ field: error.field, value: error.value }).toEqual({ field, value });
  expect(error.message).toContain(field);
  expect(error.message).toContain(value === undefined ? 'got nothing' : JSON.stringify(value).slice(0, 60));
  return error;
}
