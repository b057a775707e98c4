/** The disk mapping has a disk (disk.local for the flavor's ephemeral_gb, disk.swap for its swap) that no image was given for. */
export class MissingDiskImage extends Error {
  override readonly name = 'MissingDiskImage';
  constructor(
    /** Nova's name of the disk: disk.local, disk.swap. */
    readonly disk: string,
    /** Why the mapping has it, e.g. "flavor.swap = 512". */
    readonly reason: string,
  ) {
    super(`no image given for ${disk} (${reason})`);
  }
}
