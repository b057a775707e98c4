/**
 * The durable-io machinery itself failed (a worker thread could not start, died, or its reply was lost),
 * not the file operation: another attempt, on a fresh worker, may well succeed.
 */
export class DurableIoFailed extends Error {
  override readonly name = 'DurableIoFailed';
  readonly transient = true;

  constructor(what: string, cause?: unknown) {
    super(`durable-io: ${what}${cause instanceof Error ? `: ${cause.message}` : ''}`, cause === undefined ? undefined : { cause });
  }
}
