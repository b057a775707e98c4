import { describeValue } from './describe-value.js';

/**
 * A spawn request (Nova's build_and_run_instance args or our plain request) that cannot be turned into a
 * SpawnRequest. `field` is the path in the request as its sender wrote it (`instance.uuid`,
 * `injected_files[1].path`, `files[0].contents_base64`; "" for the request as a whole); `value` is what
 * was found there (undefined when the field is missing).
 */
export class InvalidSpawnRequest extends Error {
  override readonly name = 'InvalidSpawnRequest';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid spawn request: ${field || 'the request'} ${reason} (got ${describeValue(value)})`);
  }
}
