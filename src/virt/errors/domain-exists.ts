import { LibvirtFailure } from './libvirt-failure.js';

/**
 * A domain already holds the name or the uuid being defined (libvirt: "domain 'N' already exists with uuid U"
 * / "domain 'N' is already defined with uuid U"); `existingName` / `existingUuid` are that domain's.
 */
export class DomainExists extends LibvirtFailure {
  override readonly name = 'DomainExists';
  readonly transient = false;
  readonly existingName: string | null;
  readonly existingUuid: string | null;
  constructor(operation: string, target: string, libvirtMessage: string) {
    super(operation, target, libvirtMessage);
    const match = /domain '(.*)' (?:already exists|is already defined) with uuid ([0-9a-fA-F-]{36})/.exec(libvirtMessage);
    this.existingName = match?.[1] ?? null;
    this.existingUuid = match?.[2] ?? null;
  }
}
