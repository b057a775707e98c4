import { InvalidComputeRequest } from '../../src/nova/invalid-compute-request.js';

/**
 * Runs `decode` and checks it fails with InvalidComputeRequest for `field`, carrying `value`, and that the
 * message a log reader sees names both.
 */
export function expectInvalid(decode: () => unknown, field: string, value: unknown): InvalidComputeRequest {
  let caught: unknown;
  try {
    decode();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidComputeRequest);
  const error = caught as InvalidComputeRequest;
  expect(error.name).toBe('InvalidComputeRequest');
  expect({ field: error.field, value: error.value }).toEqual({ field, value });
  expect(error.message).toContain(field);
  expect(error.message).toContain(value === undefined ? 'got nothing' : JSON.stringify(value).slice(0, 60));
  return error;
}
