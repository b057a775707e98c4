import type { NovaConfig } from './schema.js';

/**
 * Whether nova-spawnd is a compute service of a Nova control plane (registers, reports to placement) or runs
 * standalone, as before: Nova's compute cannot start without placement credentials, so their presence decides.
 */
export function controlPlaneConfigured(config: Pick<NovaConfig, 'placement'>): boolean {
  return config.placement.auth_type !== null;
}
