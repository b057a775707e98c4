/** virDomainState, by the numbers domainGetInfo returns (VIR_DOMAIN_NOSTATE = 0 ... VIR_DOMAIN_PMSUSPENDED = 7). */
export const DOMAIN_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

/** A state a newer libvirt may add counts as "nostate", as Nova's LIBVIRT_POWER_STATE lookup would fail to name it too. */
export function domainState(state: number): DomainState {
  return DOMAIN_STATES[state] ?? 'nostate';
}
