/**
 * One line per event on stderr (journald adds its own timestamp, but operators also run us by hand), in the
 * shape of oslo.log's default format: time, pid, level, logger name, message, then key=value context.
 */

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

const ORDER: Record<Level, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };

export type LogContext = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warning(message: string, context?: LogContext): void;
  error(message: string, context?: LogContext): void;
  child(name: string): Logger;
}

/** Shared by every logger of the process, so SIGHUP can change verbosity everywhere at once. */
const state: { threshold: number; write: (line: string) => void } = {
  threshold: ORDER.INFO,
  write: (line) => void process.stderr.write(line),
};

export function setDebug(debug: boolean): void {
  state.threshold = debug ? ORDER.DEBUG : ORDER.INFO;
}

/** Redirects output, for tests that assert what an operator would read. */
export function setLogSink(write: (line: string) => void): void {
  state.write = write;
}

function renderContext(context: LogContext | undefined): string {
  if (!context) return '';
  const parts = Object.entries(context)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' && /[\s"=]/.test(value) ? JSON.stringify(value) : String(value)}`);
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

export function getLogger(name: string): Logger {
  const emit = (level: Level) => (message: string, context?: LogContext) => {
    if (ORDER[level] < state.threshold) return;
    state.write(`${new Date().toISOString()} ${process.pid} ${level} ${name} ${message}${renderContext(context)}\n`);
  };
  return {
    debug: emit('DEBUG'),
    info: emit('INFO'),
    warning: emit('WARNING'),
    error: emit('ERROR'),
    child: (suffix) => getLogger(`${name}.${suffix}`),
  };
}
