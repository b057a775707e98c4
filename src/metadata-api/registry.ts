/**
 * The instances the metadata service answers for, in memory, by uuid (X-Instance-ID) and by fixed IP (the
 * requester's address). The spawn pipeline saves a record and registers it; at start the daemon loads
 * every saved record back (openMetadataRegistry), and on a request for an instance it does not know, the
 * records another process saved since (discover).
 */
import type { Logger } from '../log.js';
import type { InstanceMetadata } from '../metadata/instance-metadata.js';
import type { SpawnRequest } from '../nova/spawn-request.js';
import { instanceDir } from '../virt/instance-paths.js';
import { metadataRecord, type MetadataRecord } from './record.js';
import { loadInstanceMetadata, placeInstanceMetadata, saveInstanceMetadata } from './store.js';

export type PasswordOutcome = 'stored' | 'conflict' | 'unknown-instance';

/** How often at most a request for an unknown instance makes the registry look for new records. */
export const DISCOVERY_INTERVAL_MS = 1000;

/** The records saved under instances_path for instances `known` does not name. */
export type FindNewRecords = (known: (uuid: string) => boolean) => Promise<MetadataRecord[]>;

export class MetadataRegistry {
  private readonly byUuid = new Map<string, MetadataRecord>();
  private readonly byIp = new Map<string, MetadataRecord[]>();
  private discovering: Promise<boolean> | null = null;
  private lastDiscovery = -Infinity;

  /**
   * persist: makes a changed record (a posted password) durable before the guest is told it is stored.
   * persistSpawned: writes a new instance's record for recordSpawn; it may leave the sync of the instance
   * directory to the spawn pipeline, which makes every name in that directory durable before the guest starts.
   * findNew: the records another process saved (none for a registry of this process alone).
   */
  constructor(
    private readonly persist: (record: MetadataRecord) => Promise<void>,
    private readonly persistSpawned: (record: MetadataRecord) => Promise<void> = persist,
    private readonly findNew: FindNewRecords = async () => [],
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.byUuid.size;
  }

  /** Adds the instance, or replaces the record of the same uuid. */
  register(record: MetadataRecord): void {
    this.forget(record.uuid);
    this.byUuid.set(record.uuid, record);
    // In place: a copy per registration would make an address many instances share (projects whose
    // networks overlap) cost time in the number of those instances, and all of them together its square.
    for (const ip of record.fixed_ips) {
      const sharing = this.byIp.get(ip);
      if (sharing === undefined) this.byIp.set(ip, [record]);
      else sharing.push(record);
    }
  }

  /**
   * Registers the records another process saved since (`nova-spawnd spawn` beside the daemon); resolves
   * with whether it found any. Asked when a request names an instance not known: at most once per
   * DISCOVERY_INTERVAL_MS, and concurrent askers share one look, so requests from strangers cannot keep
   * the service reading the disk.
   */
  discover(): Promise<boolean> {
    if (this.discovering) return this.discovering;
    if (this.now() - this.lastDiscovery < DISCOVERY_INTERVAL_MS) return Promise.resolve(false);
    this.lastDiscovery = this.now();
    this.discovering = this.findNew((uuid) => this.byUuid.has(uuid))
      .then((records) => {
        const fresh = records.filter((record) => !this.byUuid.has(record.uuid));
        for (const record of fresh) this.register(record);
        return fresh.length > 0;
      })
      .finally(() => (this.discovering = null));
    return this.discovering;
  }

  /** The instance is gone (deleted): it is no longer served. */
  forget(uuid: string): boolean {
    const record = this.byUuid.get(uuid);
    if (!record) return false;
    this.byUuid.delete(uuid);
    for (const ip of record.fixed_ips) {
      const sharing = this.byIp.get(ip)!;
      const at = sharing.indexOf(record);
      if (at >= 0) sharing.splice(at, 1);
      if (sharing.length === 0) this.byIp.delete(ip);
    }
    return true;
  }

  /**
   * The instance is deleted and its record file removed: forgotten once a discovery in flight, which may have
   * read that file before it went, has registered what it read. A discovery started after the removal cannot
   * find the record.
   */
  async forgetDeleted(uuid: string): Promise<void> {
    await this.discovering?.catch(() => undefined);
    this.forget(uuid);
  }

  byInstanceId(uuid: string): MetadataRecord | undefined {
    return this.byUuid.get(uuid);
  }

  /**
   * The instances with this fixed IP (canonical spelling). More than one only when projects with
   * overlapping networks have instances on this host: then the address identifies nobody.
   */
  byAddress(address: string): readonly MetadataRecord[] {
    return this.byIp.get(address) ?? [];
  }

  /**
   * handle_password's POST: the first non-empty password is kept, later ones conflict. The check and the
   * change are one synchronous step, so of two concurrent posts exactly one wins.
   */
  async setPassword(uuid: string, password: string): Promise<PasswordOutcome> {
    const current = this.byUuid.get(uuid);
    if (!current) return 'unknown-instance';
    if (current.password) return 'conflict';
    const updated: MetadataRecord = { ...current, password };
    this.register(updated);
    try {
      await this.persist(updated);
    } catch (error) {
      if (this.byUuid.get(uuid) === updated) this.register(current);
      throw error;
    }
    return 'stored';
  }

  /**
   * What the spawn pipeline calls once the instance's metadata is built (SpawnRecords). Like the
   * drive, a record is never replaced: a redelivered spawn keeps the first one, so the service keeps
   * serving what the drive holds (the same random seeds) and the password the guest may have posted.
   */
  async recordSpawn(request: SpawnRequest, metadata: InstanceMetadata): Promise<'created' | 'exists'> {
    if (this.byUuid.has(metadata.uuid)) return 'exists';
    const record = metadataRecord(request, metadata);
    await this.persistSpawned(record);
    this.register(record);
    return 'created';
  }
}

/** The registry of every instance saved under `$instances_path`, persisting changes back to each instance's directory. */
export async function openMetadataRegistry(instancesPath: string, log: Logger): Promise<MetadataRegistry> {
  const directoryOf = (record: MetadataRecord): string => instanceDir(instancesPath, record.uuid);
  const registry = new MetadataRegistry(
    (record) => saveInstanceMetadata(directoryOf(record), record),
    (record) => placeInstanceMetadata(directoryOf(record), record),
    (known) => loadInstanceMetadata(instancesPath, log, known),
  );
  for (const record of await loadInstanceMetadata(instancesPath, log)) registry.register(record);
  log.info('metadata records loaded', { instances: registry.size, instances_path: instancesPath });
  return registry;
}
