/**
 * Where a log call was made (Python's findCaller): for DEBUG lines' `%(funcName)s %(pathname)s:%(lineno)d`
 * and the journal's CODE_FUNC, CODE_FILE, CODE_LINE. Only taken when a format or handler uses it: a stack
 * frame costs microseconds, not much, but every line pays it.
 */
import { fileURLToPath } from 'node:url';
import type { Caller } from './record.js';

/** The frame that called `method` (the logger method itself is cut off with everything above it). */
export function callerOf(method: (...args: never[]) => unknown): Caller | null {
  const { prepareStackTrace, stackTraceLimit } = Error;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.stackTraceLimit = 1;
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.captureStackTrace(holder, method);
    const frame = holder.stack?.[0];
    const file = frame?.getFileName();
    if (!frame || !file) return null;
    return {
      funcName: frame.getFunctionName() ?? frame.getMethodName() ?? '<anonymous>',
      pathname: file.startsWith('file:') ? fileURLToPath(file) : file,
      lineno: frame.getLineNumber() ?? 0,
    };
  } finally {
    Error.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
  }
}
