/** strerror(ENOSPC) and strerror(EDQUOT): the tools report a full disk only in their stderr. */
const OUT_OF_SPACE = /No space left on device|Disk quota exceeded/;

/** A disk tool (qemu-img, mkfs, mkswap) exited with an error or could not be started. */
export class DiskCommandFailed extends Error {
  override readonly name = 'DiskCommandFailed';
  /** Only a full disk may clear up by itself; a tool that refused our arguments refuses them again. */
  readonly transient: boolean;
  constructor(
    /** The command line as run. */
    readonly command: readonly string[],
    /** "exit N", a signal name, or the spawn error code (ENOENT when the tool is not installed). */
    readonly status: string,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')} failed (${status}): ${stderr.trim() || 'no output'}`);
    this.transient = OUT_OF_SPACE.test(stderr);
  }

  /** Whether the tool ran at all (it exited or was killed), as opposed to not being found or executable. */
  get started(): boolean {
    return this.status.startsWith('exit ') || this.status.startsWith('SIG');
  }
}
