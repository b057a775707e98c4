/**
 * The compute node in placement, as Nova's resource tracker keeps it (_update_to_placement): the resource
 * provider (uuid and name the node's), its VCPU / MEMORY_MB / DISK_GB inventory and the capability traits,
 * each written only when it differs from placement's (the client reads, compares and retries generation
 * conflicts). Called after every ComputeNode update.
 */
import type { PlacementClient } from '../clients/placement.js';
import type { Logger } from '../log.js';
import type { ComputeNodeSummary } from './compute-node-summary.js';
import { computeNodeInventory, type InventoryOptions } from './inventory.js';
import { computeNodeTraits } from './traits.js';

export class PlacementReporter {
  /** Providers known to exist: one look-up per provider and process, as Nova's provider tree cache. */
  private readonly known = new Set<string>();

  constructor(
    private readonly placement: PlacementClient,
    private readonly options: InventoryOptions,
    private readonly log: Logger,
  ) {}

  async report(node: ComputeNodeSummary, serviceDisabled: boolean): Promise<void> {
    if (!this.known.has(node.uuid)) {
      await this.placement.ensureProvider({ uuid: node.uuid, name: node.hypervisor_hostname });
      this.known.add(node.uuid);
      this.log.info('resource provider in placement', { uuid: node.uuid, name: node.hypervisor_hostname });
    }
    const inventories = await this.placement.updateInventories(node.uuid, (current) => computeNodeInventory(node, this.options, current));
    await this.placement.updateTraits(node.uuid, (current) => computeNodeTraits(current, serviceDisabled));
    this.log.debug('inventory reported to placement', { uuid: node.uuid, generation: inventories.generation });
  }
}
