import { hostArchitecture, type Architecture } from './arch.js';
import { supportsDirectIo } from './direct-io.js';

/** What the host contributes to its guests' configuration. */
export interface HostFacts {
  arch: Architecture;
  /** instances_path supports O_DIRECT: the default disk cache mode is then "none". */
  directIo: boolean;
}

/** Looked at once, when the daemon starts (after it has created instances_path). */
export async function probeHost(instancesPath: string): Promise<HostFacts> {
  return { arch: hostArchitecture(), directIo: await supportsDirectIo(instancesPath) };
}
