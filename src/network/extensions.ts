import type { NeutronCalls } from '../clients/neutron.js';

/** nova/network/constants.py: the extensions whose presence changes what Nova sends. */
export const DNS_INTEGRATION = 'dns-integration';
export const MULTI_PROVIDER = 'multi-provider';
export const RESOURCE_REQUEST_GROUPS = 'port-resource-request-groups';

/**
 * API._refresh_neutron_extensions_cache: Neutron's extension aliases, asked again once
 * [neutron] extension_sync_interval seconds have passed; shared by every call of the process, whichever
 * client (user or service) asks.
 */
export class ExtensionCache {
  private aliases = new Set<string>();
  private syncedAt: number | null = null;

  constructor(
    private readonly syncIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async has(alias: string, client: Pick<NeutronCalls, 'listExtensions'>): Promise<boolean> {
    if (this.syncedAt === null || this.now() - this.syncedAt >= this.syncIntervalMs) {
      this.aliases = new Set(await client.listExtensions());
      this.syncedAt = this.now();
    }
    return this.aliases.has(alias);
  }
}
