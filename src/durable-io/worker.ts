/** A durable-io worker: runs the calls of one request at a time for pool.ts and answers each with its result or its error. */
import { parentPort } from 'node:worker_threads';
import { operations, type OperationName } from './operations.js';
import { describeError, type Call, type Outcome, type Request } from './messages.js';

function run({ operation, args }: Call): Outcome {
  try {
    return { result: (operations[operation as OperationName] as (...values: unknown[]) => unknown)(...args) };
  } catch (error) {
    return { error: describeError(error) };
  }
}

parentPort!.on('message', ({ id, calls }: Request) => {
  parentPort!.postMessage({ id, outcomes: calls.map(run) });
});

// A request that cannot be read has no id to answer: the thread ends, and the pool fails the calls it sent.
parentPort!.on('messageerror', () => process.exit(1));
