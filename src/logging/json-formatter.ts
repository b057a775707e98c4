/**
 * oslo.log's JSONFormatter (use_json): one JSON object per record, with its fields in its order, the request
 * context under "context" and what the call site added (the instance among it) under "extra".
 */
import type { FormatOptions } from './options.js';
import { recordAttributes } from './context-formatter.js';
import { LEVELS, errorSummary, errorTraceback, splitContext, type LogRecord } from './record.js';

export function formatJson(record: LogRecord, options: Pick<FormatOptions, 'log_date_format'>): string {
  const { request, extra, instance } = splitContext(record.context);
  const attributes = recordAttributes(record, options, false);
  // Nova passes a uuid alone as instance_uuid=.
  const withInstance = instance === null ? extra : { ...extra, instance_uuid: instance };
  return JSON.stringify({
    message: record.msg,
    asctime: attributes['asctime'],
    name: record.name,
    msg: record.msg,
    args: [],
    levelname: record.levelname,
    levelno: record.levelno,
    pathname: attributes['pathname'],
    filename: attributes['filename'],
    module: attributes['module'],
    lineno: attributes['lineno'],
    funcname: attributes['funcName'],
    created: attributes['created'],
    msecs: attributes['msecs'],
    relative_created: record.relativeCreated,
    thread: attributes['thread'],
    thread_name: attributes['threadName'],
    process_name: attributes['processName'],
    process: record.process,
    // JSONFormatter.formatException(strip_newlines=True): the traceback's non-empty lines.
    traceback: record.error === undefined ? null : errorTraceback(record.error).split('\n').map((line) => line.trimEnd()).filter((line) => line !== ''),
    hostname: attributes['hostname'],
    error_summary: record.error !== undefined && record.levelno >= LEVELS.WARNING ? errorSummary(record.error) : '',
    context: request ?? {},
    // KeywordArgumentAdapter sorts the keyword arguments it moves into extra.
    extra: Object.fromEntries(Object.entries(withInstance).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  });
}
