/** What pool.ts and its workers say to each other; a system error crosses as its fields and is rebuilt. */

export interface Call {
  operation: string;
  args: unknown[];
}

/** Calls a worker runs one after the other, answered together: one round trip for all of them. */
export interface Request {
  id: number;
  calls: Call[];
}

/** An error as plain fields: structured cloning keeps an Error's message but drops code, errno, syscall and path. */
export interface ErrorFields {
  name: string;
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
  dest?: string;
}

export type Outcome = { result: unknown } | { error: ErrorFields };

/** One outcome per call, in the request's order. */
export interface Response {
  id: number;
  outcomes: Outcome[];
}

export function describeError(error: unknown): ErrorFields {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, errno, syscall, path, dest } = error as NodeJS.ErrnoException & { dest?: string };
  return { name: error.name, message: error.message, code, errno, syscall, path, dest };
}

/** The error as the caller would have had it from the same call on its own thread. */
export function rebuildError(fields: ErrorFields): Error {
  const error = new Error(fields.message);
  error.name = fields.name;
  for (const key of ['code', 'errno', 'syscall', 'path', 'dest'] as const) {
    if (fields[key] !== undefined) Object.assign(error, { [key]: fields[key] });
  }
  return error;
}
