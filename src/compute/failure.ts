import { OperationFailed } from './operation-failed.js';

/** errno codes of a full or failing disk, or of a process out of descriptors: another attempt may succeed. */
const TRANSIENT_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);

/**
 * Classifies whatever a step of `operation` (a spawn unless named) threw. Errors that know (libvirt failures,
 * image downloads) say whether they are transient; a file system error is transient when it is about space
 * or load; everything else, such as an invalid domain or a missing image, will fail again the same way.
 */
export function asOperationFailed(uuid: string, step: string, error: unknown, operation?: string): OperationFailed {
  if (error instanceof OperationFailed) return error;
  const known = (error as { transient?: unknown }).transient;
  const code = (error as NodeJS.ErrnoException).code;
  const transient = typeof known === 'boolean' ? known : code !== undefined && TRANSIENT_ERRNO.has(code);
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new OperationFailed(uuid, step, transient, reason, { cause: error, operation });
}
