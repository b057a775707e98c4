/**
 * The metadata records on disk: `$instances_path/<uuid>/metadata.json`, beside the instance's libvirt.xml
 * and disk.config, so the service answers for every instance this host spawned after a restart. Mode 0600:
 * the record holds the user data and the guest's encrypted password (a v1 record the admin password too).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { replaceFile, syncPath } from '../durable-files.js';
import { decodeRecord, encodeRecord, MetadataRecordError, type MetadataRecord } from './record.js';

export const RECORD_FILE = 'metadata.json';

/**
 * Replaces the instance's record atomically: a reader (or a crash) sees the old file or the new one, whole.
 * The data is synced before the rename; the new name is durable once the directory is synced.
 */
export async function placeInstanceMetadata(instanceDir: string, record: MetadataRecord): Promise<void> {
  await replaceFile(join(instanceDir, RECORD_FILE), encodeRecord(record), 0o600);
}

/** placeInstanceMetadata, then the directory synced: the record survives a power cut once this returns. */
export async function saveInstanceMetadata(instanceDir: string, record: MetadataRecord): Promise<void> {
  await placeInstanceMetadata(instanceDir, record);
  await syncPath(instanceDir);
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** One instance directory's record: null when it has none; a record that cannot be read is logged and skipped. */
async function loadOne(instancesPath: string, name: string, log: Logger): Promise<MetadataRecord | null> {
  const path = join(instancesPath, name, RECORD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return null;
    log.error(`metadata record not readable, instance not served: ${(error as Error).message}`, { path });
    return null;
  }
  try {
    const record = decodeRecord(text);
    if (record.uuid !== name) throw new MetadataRecordError('record.uuid', record.uuid, `not the instance directory's name ${name}`);
    return record;
  } catch (error) {
    if (!(error instanceof MetadataRecordError || error instanceof SyntaxError)) throw error;
    log.error(`metadata record corrupt, instance not served: ${error.message}`, { path });
    return null;
  }
}

/** Every record under `$instances_path/*\/` (as the service starts), but those of the directories `skip` names. */
export async function loadInstanceMetadata(instancesPath: string, log: Logger, skip: (name: string) => boolean = () => false): Promise<MetadataRecord[]> {
  let names: string[];
  try {
    names = await readdir(instancesPath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const records = await Promise.all(names.filter((name) => !skip(name)).sort().map((name) => loadOne(instancesPath, name, log)));
  return records.filter((record): record is MetadataRecord => record !== null);
}
