/** A durable-io worker: runs one operation at a time for pool.ts and answers with its result or its error. */
import { parentPort } from 'node:worker_threads';
import { operations, type OperationName } from './operations.js';
import { describeError, type Request } from './messages.js';

parentPort!.on('message', ({ id, operation, args }: Request) => {
  try {
    const run = operations[operation as OperationName] as (...values: unknown[]) => unknown;
    parentPort!.postMessage({ id, result: run(...args) });
  } catch (error) {
    parentPort!.postMessage({ id, error: describeError(error) });
  }
});

// A request that cannot be read has no id to answer: the thread ends, and the pool fails the operation it sent.
parentPort!.on('messageerror', () => process.exit(1));
