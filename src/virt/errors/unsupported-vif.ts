import { describeValue } from '../../nova/describe-value.js';

/** A VIF of network_info that cannot be turned into a libvirt <interface>; `field` is its path, e.g. network_info[0].network.bridge. */
export class UnsupportedVif extends Error {
  override readonly name = 'UnsupportedVif';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${field} = ${describeValue(value)}: ${reason}`);
  }
}
