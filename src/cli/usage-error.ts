/** The command line itself is wrong (exit 64). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
