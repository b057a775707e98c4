/**
 * A record as a journal entry: the fields oslo.log's OSJournalHandler sends (oslo_log/handlers.py), encoded
 * in journald's native protocol (systemd's "Native Journal Protocol": KEY=value lines, or KEY, a 64-bit
 * little-endian length and the bytes for a value with a newline), one datagram per entry.
 */
import { LEVELS, splitContext, type LogRecord } from './record.js';

/** oslo.log's SYSLOG_MAP: syslog priorities by level name. */
export function syslogPriority(levelno: number): number {
  if (levelno >= LEVELS.CRITICAL) return 2;
  if (levelno >= LEVELS.ERROR) return 3;
  if (levelno >= LEVELS.WARNING) return 4;
  if (levelno >= LEVELS.INFO) return 6;
  return 7;
}

/**
 * LOG_USER as journald reads SYSLOG_FACILITY (the facility number, 1). oslo.log sends Python's syslog.LOG_USER,
 * 8, which is the facility already shifted for a syslog priority, and which journalctl shows as uucp.
 */
const FACILITY_USER = '1';

/**
 * A value longer than this is cut, with a note saying by how much. unix-dgram cannot pass a memfd (journald's
 * way for entries over the socket's send buffer, 208 KiB by default), and a datagram that large would fail;
 * 48 KiB is the journal's own line limit for stdout and stderr (LineMax=), so an entry holding MESSAGE and
 * the traceback twice stays under the buffer.
 */
export const JOURNAL_VALUE_MAX = 48 * 1024;

/** oslo's custom_fields: request context values sent upper-cased when set. */
const CONTEXT_FIELDS = ['project_name', 'project_id', 'user_name', 'user_id', 'request_id'] as const;

/**
 * OSJournalHandler.emit's fields for a record and its formatted text. Two more than oslo: INSTANCE_UUID and
 * GLOBAL_REQUEST_ID, so that `journalctl INSTANCE_UUID=<uuid>` finds an instance's lines. EXCEPTION_INFO (and
 * EXCEPTION_TEXT, oslo's older name) hold the stack alone, not oslo's copy prefixed like the log line.
 */
export function journalFields(record: LogRecord, message: string, identifier: string, traceback: string | null): [string, string][] {
  const fields: [string, string][] = [['MESSAGE', message]];
  if (record.caller) {
    fields.push(['CODE_FILE', record.caller.pathname], ['CODE_LINE', String(record.caller.lineno)], ['CODE_FUNC', record.caller.funcName]);
  }
  fields.push(
    ['THREAD_NAME', 'MainThread'],
    ['PROCESS_NAME', 'MainProcess'],
    ['LOGGER_NAME', record.name],
    ['LOGGER_LEVEL', record.levelname],
    ['SYSLOG_IDENTIFIER', identifier],
    ['PRIORITY', String(syslogPriority(record.levelno))],
    ['SYSLOG_FACILITY', FACILITY_USER],
  );
  if (traceback !== null) fields.push(['EXCEPTION_INFO', traceback], ['EXCEPTION_TEXT', traceback]);
  const { request, instance } = splitContext(record.context);
  for (const key of CONTEXT_FIELDS) {
    // oslo.context names the ids user and project; Nova's context also has user_id and project_id.
    const value = request?.[key] ?? (key === 'user_id' ? request?.['user'] : key === 'project_id' ? request?.['project'] : null);
    if (value) fields.push([key.toUpperCase(), String(value)]);
  }
  if (request?.['global_request_id']) fields.push(['GLOBAL_REQUEST_ID', String(request['global_request_id'])]);
  if (instance) fields.push(['INSTANCE_UUID', instance]);
  return fields;
}

/** Cuts a value to JOURNAL_VALUE_MAX bytes on a character boundary, saying so at the end. */
function bounded(value: Buffer): Buffer {
  if (value.length <= JOURNAL_VALUE_MAX) return value;
  let end = JOURNAL_VALUE_MAX;
  while (end > 0 && (value[end]! & 0xc0) === 0x80) end--;
  return Buffer.concat([value.subarray(0, end), Buffer.from(` [truncated: ${value.length - end} more bytes]`)]);
}

/** The datagram journald reads: KEY=value\n, or KEY\n<le64 length><value>\n for a value with a newline. */
export function encodeJournalEntry(fields: readonly [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, text] of fields) {
    const value = bounded(Buffer.from(text, 'utf8'));
    if (!value.includes(0x0a)) {
      parts.push(Buffer.from(`${key}=`), value, Buffer.from('\n'));
      continue;
    }
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(value.length));
    parts.push(Buffer.from(`${key}\n`), length, value, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}
