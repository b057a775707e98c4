/**
 * oslo.log's ContextFormatter (oslo_log/formatters.py), the format of every Nova log line:
 *   2026-12-02 08:46:56.123 4242 INFO nova_spawnd.compute [None req-... <user> <project> - - - -] [instance: <uuid>] spawned
 * The context format when the line has a request id, the default format (`[-]`) otherwise; a DEBUG line ends
 * with where it was logged; an error's stack follows, each line under logging_exception_prefix.
 */
import os from 'node:os';
import { basename, extname } from 'node:path';
import { threadId } from 'node:worker_threads';
import strftime from 'strftime';
import { VERSION } from '../version.js';
import type { FormatOptions } from './options.js';
import { FormatStringError, formatKeys, percentFormat, type PyValue } from './percent-format.js';
import { LEVELS, errorSummary, errorTraceback, splitContext, type LogRecord, type SplitContext } from './record.js';

/** Python's record attributes when the caller is not known (logging.Logger.findCaller's defaults). */
const UNKNOWN_CALLER = { funcName: '(unknown function)', pathname: '(unknown file)', lineno: 0 };

/** oslo.log sets project and version from logging.setup(conf, 'nova'); a request context replaces project. */
const PROJECT = 'nova-spawnd';

/** What `%(...)s` can name in any format option (LogRecord's attributes and those ContextFormatter adds). */
export const RECORD_KEYS = [
  'name', 'msg', 'levelname', 'levelno', 'pathname', 'filename', 'module', 'lineno', 'funcName', 'created', 'msecs',
  'relativeCreated', 'thread', 'threadName', 'processName', 'process', 'message', 'asctime', 'isotime', 'project',
  'version', 'instance', 'color', 'resource', 'user_identity', 'user_name', 'project_name', 'global_request_id',
  'request_id', 'error_summary', 'user', 'domain', 'system_scope', 'user_domain', 'project_domain', 'user_id',
  'project_id', 'resource_uuid', 'hostname',
];

/** Checks a format option's keys against what a record offers: a bad format fails at start, not at each line. */
export function checkFormat(format: string, keys: readonly string[] = RECORD_KEYS): void {
  const unknown = [...formatKeys(format)].filter((key) => !keys.includes(key));
  if (unknown.length > 0) throw new FormatStringError(`unknown key ${unknown.map((key) => `%(${key})s`).join(', ')}; known: ${keys.join(', ')}`);
}

/** key=value after the message: what a call site adds that oslo's format has no place for. */
export function renderExtra(extra: Record<string, PyValue>): string {
  const parts = Object.entries(extra).map(([key, value]) => `${key}=${typeof value === 'string' && /[\s"=]/.test(value) ? JSON.stringify(value) : String(value)}`);
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** datetime.fromtimestamp(created).replace(tzinfo=tzlocal()).isoformat(), always with microseconds. */
function isoTime(created: number): string {
  const date = new Date(created);
  const offset = -date.getTimezoneOffset();
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${strftime('%Y-%m-%dT%H:%M:%S', date)}.${pad(date.getMilliseconds(), 3)}000${zone}`;
}

/** socket.gethostname(), once, as JSONFormatter takes it when it is made. */
const HOSTNAME = os.hostname();

/**
 * The attributes Python's LogRecord has (with oslo's project and version), before context and formatting.
 * `isotime` costs a second strftime: only when a format asks for it.
 */
export function recordAttributes(record: LogRecord, options: Pick<FormatOptions, 'log_date_format'>, isotime = true): Record<string, PyValue> {
  const caller = record.caller ?? UNKNOWN_CALLER;
  const file = basename(caller.pathname);
  const attributes: Record<string, PyValue> = {
    name: record.name,
    msg: record.msg,
    levelname: record.levelname,
    levelno: record.levelno,
    pathname: caller.pathname,
    filename: file,
    module: file.slice(0, file.length - extname(file).length),
    lineno: caller.lineno,
    funcName: caller.funcName,
    created: record.created / 1000,
    msecs: record.created % 1000,
    relativeCreated: record.relativeCreated,
    thread: threadId,
    threadName: 'MainThread',
    processName: 'MainProcess',
    process: record.process,
    project: PROJECT,
    version: VERSION,
    hostname: HOSTNAME,
    asctime: strftime(options.log_date_format, new Date(record.created)),
  };
  if (isotime) attributes['isotime'] = isoTime(record.created);
  return attributes;
}

/** ContextFormatter's `[instance: <uuid>] `: from the line's instance, else the context's resource_uuid. */
function instanceExtra(split: SplitContext, options: FormatOptions): string {
  const uuid = split.instance ?? split.request?.['resource_uuid'];
  return uuid ? percentFormat(options.instance_uuid_format, { uuid }) : '';
}

/** dict.get(key) or '-' (oslo's _ReplaceFalseValue), for logging_user_identity_format. */
function replaceFalseValue(values: Record<string, PyValue>): Record<string, PyValue> {
  return new Proxy(values, { get: (target, key) => (typeof key === 'string' && target[key]) || '-' });
}

/** ContextFormatter.format: one line, or several when an error's stack follows. */
export function formatRecord(record: LogRecord, options: FormatOptions): string {
  const split = splitContext(record.context);
  const isotime = [options.logging_context_format_string, options.logging_default_format_string, options.logging_debug_format_suffix, options.logging_exception_prefix].some((format) =>
    formatKeys(format).has('isotime'),
  );
  // Assigned, not spread: V8 takes some 100 us to spread these three into one object.
  const values: Record<string, PyValue> = Object.assign({}, split.extra, recordAttributes(record, options, isotime), split.request);
  values['instance'] = instanceExtra(split, options);
  // Absent, not None: a context's None prints as None (`[None req-...]`), as in Nova's logs.
  for (const key of ['color', 'user_identity', 'resource', 'user_name', 'project_name', 'global_request_id']) if (values[key] === undefined) values[key] = '';
  if (split.request) values['user_identity'] = percentFormat(options.logging_user_identity_format, replaceFalseValue(split.request));
  let format = values['request_id'] ? options.logging_context_format_string : options.logging_default_format_string;

  const summary = record.error !== undefined && record.levelno >= LEVELS.WARNING ? errorSummary(record.error) : '';
  if (format.includes('%(error_summary)s')) values['error_summary'] = summary || '-';
  else if (summary) {
    values['error_summary'] = summary;
    format += ': %(error_summary)s';
  }
  if (record.levelno === LEVELS.DEBUG && options.logging_debug_format_suffix) format += ` ${options.logging_debug_format_suffix}`;
  values['message'] = record.msg + renderExtra(split.extra);

  const line = percentFormat(format, values);
  if (record.error === undefined) return line;
  const prefix = percentFormat(options.logging_exception_prefix, values);
  const stack = errorTraceback(record.error)
    .split('\n')
    .map((text) => prefix + text)
    .join('\n');
  return line.endsWith('\n') ? line + stack : `${line}\n${stack}`;
}
