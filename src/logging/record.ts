/**
 * One log event as the formatters and handlers see it: Python's LogRecord, with the request context and the
 * instance that oslo.log takes from Nova's RequestContext and the `instance=` keyword.
 */
import type { PyValue } from './percent-format.js';

/** Python's logging levels (and oslo.log's TRACE), by name. */
export const LEVELS = { CRITICAL: 50, FATAL: 50, ERROR: 40, WARNING: 30, WARN: 30, INFO: 20, DEBUG: 10, TRACE: 5, NOTSET: 0 } as const;

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

/** What a call site adds to a message. Some keys are the request context's or the instance's (below). */
export type LogContext = Record<string, string | number | boolean | null | undefined>;

/**
 * The keys of a LogContext that are the request context (RequestContext.get_logging_values, as oslo.log puts
 * them on the record): they fill the `[global_request_id request_id user_identity]` part and the journal's
 * REQUEST_ID, USER_ID... fields, not the message. `user` and `project` are the ids, as oslo.context names them.
 * Not its `domain` (the id a domain-scoped token has, None for the project-scoped ones Nova acts on): `domain`
 * and `domain_id` are a libvirt domain's name and id wherever the daemon logs one.
 */
export const REQUEST_CONTEXT_KEYS = [
  'request_id',
  'global_request_id',
  'user',
  'project',
  'system_scope',
  'user_domain',
  'project_domain',
  'user_id',
  'project_id',
  'user_name',
  'project_name',
  'resource_uuid',
] as const;

const REQUEST_CONTEXT = new Set<string>(REQUEST_CONTEXT_KEYS);

/** The instance uuid a line is about: oslo.log's `[instance: <uuid>] `. */
export const INSTANCE_KEY = 'instance';

/** Where a log call was made: Python's funcName, pathname and lineno. */
export interface Caller {
  funcName: string;
  pathname: string;
  lineno: number;
}

export interface LogRecord {
  name: string;
  levelname: Level;
  levelno: number;
  /** The message as logged, without the context. */
  msg: string;
  context: LogContext;
  /** LOG.exception's exc_info: its stack follows the line, each line under logging_exception_prefix. */
  error?: unknown;
  /** Milliseconds since the epoch. */
  created: number;
  /** Milliseconds since the process started (Python's relativeCreated). */
  relativeCreated: number;
  process: number;
  caller: Caller | null;
}

export interface SplitContext {
  instance: string | null;
  /** The request context's values, or null when the line has no request context. */
  request: Record<string, PyValue> | null;
  /** Everything else, shown after the message as key=value. */
  extra: Record<string, PyValue>;
}

export function splitContext(context: LogContext): SplitContext {
  let instance: string | null = null;
  let request: Record<string, PyValue> | null = null;
  const extra: Record<string, PyValue> = {};
  for (const key in context) {
    const value = context[key];
    if (value === undefined) continue;
    if (key === INSTANCE_KEY && typeof value === 'string') instance = value;
    else if (REQUEST_CONTEXT.has(key)) (request ??= {})[key] = value;
    else extra[key] = value;
  }
  return { instance, request, extra };
}

/**
 * The logging part of a Nova request context as it arrives on the wire (`_context_*`), for a LogContext:
 * None where Nova has None, so the line reads as nova-compute's (`[None req-... <user> <project> - - -]`).
 * Named keys only: the token and the service catalog never reach a log line.
 */
export function requestLogContext(context: object): LogContext {
  const text = (key: string): string | null => {
    const value = (context as Record<string, unknown>)[key];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const userId = text('user_id') ?? text('user');
  const projectId = text('project_id') ?? text('project');
  return {
    request_id: text('request_id'),
    global_request_id: text('global_request_id'),
    user: userId,
    project: projectId,
    system_scope: text('system_scope'),
    user_domain: text('user_domain') ?? text('user_domain_id'),
    project_domain: text('project_domain') ?? text('project_domain_id'),
    user_id: userId,
    project_id: projectId,
    user_name: text('user_name'),
    project_name: text('project_name'),
  };
}

/** "Name: message" (traceback.format_exception_only's first line), for errors and anything thrown. */
export function errorSummary(error: unknown): string {
  if (error instanceof Error) return error.message ? `${error.name}: ${error.message}` : error.name;
  return String(error);
}

/** The text oslo.log prints under a line for LOG.exception: Python's traceback, here the stack. */
export function errorTraceback(error: unknown): string {
  return error instanceof Error ? (error.stack ?? errorSummary(error)) : errorSummary(error);
}
