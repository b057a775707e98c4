/**
 * Logging as oslo.log does it for Nova: a logger per part of the daemon (nova_spawnd.compute, ...), records in
 * oslo's ContextFormatter format (or JSONFormatter's with use_json) to stderr, log_file and/or the journal,
 * levels from [DEFAULT] debug and default_log_levels. Until the configuration is read: stderr, oslo's defaults.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigError } from './config/config-error.js';
import { callerOf } from './logging/caller.js';
import { formatRecord } from './logging/context-formatter.js';
import { JournalHandler, SinkHandler, StderrHandler, WatchedFileHandler, type Handler } from './logging/handlers.js';
import { formatJson } from './logging/json-formatter.js';
import { effectiveLevel, levelsByLogger } from './logging/levels.js';
import { FORMAT_DEFAULTS, LOGGING_DEFAULTS, type LoggingOptions } from './logging/options.js';
import { formatKeys } from './logging/percent-format.js';
import { LEVELS, type Level, type LogContext, type LogRecord } from './logging/record.js';
import { DatagramSocket } from './systemd/datagram.js';

export type { Level, LogContext } from './logging/record.js';
export { requestLogContext } from './logging/record.js';

export interface Logger {
  /** `error`: what LOG.exception would log, its stack after the line (and its summary, at WARNING and above). */
  debug(message: string, context?: LogContext, error?: unknown): void;
  info(message: string, context?: LogContext, error?: unknown): void;
  warning(message: string, context?: LogContext, error?: unknown): void;
  error(message: string, context?: LogContext, error?: unknown): void;
  child(name: string): Logger;
}

/** The journal's SYSLOG_IDENTIFIER and the log_dir file's name: oslo.log uses the program's name. */
const BINARY_NAME = 'nova-spawnd';

const CALLER_KEYS = ['funcName', 'pathname', 'lineno', 'filename', 'module'];

interface State {
  root: number;
  levels: Map<string, number>;
  /** Bumped on every change of levels, so that loggers recompute theirs once. */
  generation: number;
  handlers: Handler[];
  format: (record: LogRecord) => string;
  /** Whether records at a level need their caller: a format names it, or the journal sends it. */
  callerAt: (levelno: number) => boolean;
}

/** Shared by every logger of the process, so SIGHUP can change it everywhere at once. */
const state: State = {
  root: LEVELS.INFO,
  levels: new Map(),
  generation: 0,
  handlers: [new StderrHandler()],
  format: (record) => formatRecord(record, FORMAT_DEFAULTS),
  callerAt: callerNeeds(LOGGING_DEFAULTS, false),
};

function callerNeeds(options: LoggingOptions, journal: boolean): (levelno: number) => boolean {
  if (journal || options.use_json) return () => true;
  const uses = (format: string) => CALLER_KEYS.some((key) => formatKeys(format).has(key));
  const always = [options.logging_context_format_string, options.logging_default_format_string, options.logging_exception_prefix].some(uses);
  const debug = always || uses(options.logging_debug_format_suffix);
  return (levelno) => always || (debug && levelno === LEVELS.DEBUG);
}

export function setDebug(debug: boolean): void {
  state.root = debug ? LEVELS.DEBUG : LEVELS.INFO;
  state.generation++;
}

/** Redirects output, for tests that assert what an operator would read. */
export function setLogSink(write: (line: string) => void): void {
  replaceHandlers([new SinkHandler(write)]);
}

function replaceHandlers(handlers: Handler[]): void {
  const old = state.handlers;
  state.handlers = handlers;
  for (const handler of old) handler.close();
}

/** oslo.log's _get_log_file_path: log_file, under log_dir when both are set; log_dir alone: <binary>.log in it. */
export function logFilePath(options: Pick<LoggingOptions, 'log_file' | 'log_dir'>): string | null {
  if (options.log_file) return options.log_dir ? join(options.log_dir, options.log_file) : options.log_file;
  return options.log_dir ? join(options.log_dir, `${BINARY_NAME}.log`) : null;
}

/** Where journald listens for its native protocol. */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/**
 * oslo.log's _setup_logging_from_conf: a watched file for log_file or log_dir, stderr with use_stderr, the
 * journal with use_journal; none of the three: stderr (oslo falls back to stdout; nova-spawnd's commands keep
 * stdout for what they print). Called again on SIGHUP: levels re-read, the log file reopened.
 */
export function configureLogging(options: LoggingOptions, journalSocket = JOURNAL_SOCKET): void {
  const handlers: Handler[] = [];
  const path = logFilePath(options);
  if (path) {
    try {
      handlers.push(new WatchedFileHandler(path));
    } catch (error) {
      const option = options.log_file ? 'log_file' : 'log_dir';
      throw new ConfigError([{ section: 'DEFAULT', option, value: String(options[option]), reason: `cannot open ${path}: ${(error as Error).message}` }]);
    }
  }
  if (options.use_stderr || (!path && !options.use_journal)) handlers.push(new StderrHandler());
  // A journal that is away costs each record a write to stderr (the handler's failure), not the daemon.
  if (options.use_journal) handlers.push(new JournalHandler(new DatagramSocket(journalSocket), BINARY_NAME));
  state.format = options.use_json ? (record) => formatJson(record, options) : (record) => formatRecord(record, options);
  state.callerAt = callerNeeds(options, options.use_journal);
  state.levels = levelsByLogger(options.default_log_levels);
  setDebug(options.debug);
  replaceHandlers(handlers);
}

/** Each handler's last failure, said once on stderr until it changes or the handler recovers. */
const failures = new WeakMap<Handler, string>();
const fallback = new StderrHandler();

function emit(record: LogRecord): void {
  const text = state.format(record);
  for (const handler of state.handlers) {
    try {
      handler.emit(record, text);
      failures.delete(handler);
    } catch (error) {
      // Python's Handler.handleError says so on stderr and carries on; the record goes to stderr instead.
      const reason = (error as Error).message;
      if (failures.get(handler) !== reason) process.stderr.write(`--- Logging error: ${reason} ---\n`);
      failures.set(handler, reason);
      fallback.emit(record, text);
    }
  }
}

export function getLogger(name: string): Logger {
  let generation = -1;
  let threshold = 0;
  const method = (levelname: Level) => {
    const levelno = LEVELS[levelname];
    const log = (msg: string, context: LogContext = {}, error?: unknown): void => {
      if (generation !== state.generation) {
        threshold = effectiveLevel(name, state.levels, state.root);
        generation = state.generation;
      }
      if (levelno < threshold) return;
      const created = Date.now();
      const caller = state.callerAt(levelno) ? callerOf(log) : null;
      emit({ name, levelname, levelno, msg, context, error, created, relativeCreated: performance.now(), process: process.pid, caller });
    };
    return log;
  };
  return {
    debug: method('DEBUG'),
    info: method('INFO'),
    warning: method('WARNING'),
    error: method('ERROR'),
    child: (suffix) => getLogger(`${name}.${suffix}`),
  };
}
