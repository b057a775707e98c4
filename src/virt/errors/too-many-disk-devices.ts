/** Every device name of a bus is taken (blockinfo.find_disk_dev_for_disk_bus): IDE has four. */
export class TooManyDiskDevices extends Error {
  override readonly name = 'TooManyDiskDevices';
  constructor(
    readonly bus: string,
    readonly maximum: number,
    /** The disk that found no free name, e.g. "disk.config". */
    readonly disk: string,
  ) {
    super(`no free device name for ${disk} on bus ${bus}: the bus takes at most ${maximum} disks`);
  }
}
