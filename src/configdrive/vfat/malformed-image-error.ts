/** What readVfat throws for an image it cannot trust: `where` names the structure, `value` what was found there. */
export class MalformedVfatError extends Error {
  override readonly name = 'MalformedVfatError';
  constructor(readonly where: string, readonly value: unknown, reason: string) {
    super(`malformed VFAT image: ${where} is ${typeof value === 'string' ? JSON.stringify(value) : String(value)}: ${reason}`);
  }
}
