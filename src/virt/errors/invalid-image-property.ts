import { describeValue } from '../../nova/describe-value.js';

/** An image property the guest's hardware is chosen from (hw_disk_bus, hw_architecture, ...) has a value we cannot use. */
export class InvalidImageProperty extends Error {
  override readonly name = 'InvalidImageProperty';
  constructor(
    readonly property: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`image property ${property} = ${describeValue(value)} ${reason}`);
  }
}
