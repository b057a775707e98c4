/**
 * InstanceDriver on libvirt, as Nova's LibvirtDriver does it (nova/virt/libvirt/driver.py): destroy, power_off
 * (_clean_shutdown, then _destroy), power_on, reboot (_soft_reboot, else _hard_reboot), get_console_output,
 * get_info and list_instance_uuids. An instance's domain is found by its uuid, its files under
 * instances_path. Every failure leaves as an OperationFailed naming the operation, the step and whether a
 * retry can help.
 *
 * Unlike Nova, power_on and the hard reboot start the persistent definition the spawn made instead of
 * regenerating the domain XML: this host keeps no build request to regenerate it from, and nothing that
 * would change it (resize, rebuild, volume attach) is done here.
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { syncPath } from '../durable-files.js';
import type { Logger } from '../log.js';
import type { MetadataRegistry } from '../metadata-api/registry.js';
import { RECORD_FILE } from '../metadata-api/store.js';
import type { DomainStatus, LibvirtConnection } from '../virt/connection.js';
import type { DomainState } from '../virt/domain-state.js';
import { LibvirtFailure } from '../virt/errors/libvirt-failure.js';
import { consoleLogPath, instanceDir } from '../virt/instance-paths.js';
import { POWER_STATE, type InstanceDriver, type PowerOffOptions, type PowerState, type RebootType } from './driver.js';
import { asOperationFailed } from './failure.js';

/** get_console_output returns at most this much of the end of the console log. */
export const MAX_CONSOLE_BYTES = 100 * 1024;

/** LIBVIRT_POWER_STATE (nova/virt/libvirt/guest.py). */
const LIBVIRT_POWER_STATE: Readonly<Record<DomainState, PowerState>> = {
  nostate: POWER_STATE.NOSTATE,
  running: POWER_STATE.RUNNING,
  // Blocked on a resource (I/O): running, as far as anyone outside the guest can tell.
  blocked: POWER_STATE.RUNNING,
  paused: POWER_STATE.PAUSED,
  // Being shut down: Nova counts it as down already.
  shutdown: POWER_STATE.SHUTDOWN,
  shutoff: POWER_STATE.SHUTDOWN,
  crashed: POWER_STATE.CRASHED,
  pmsuspended: POWER_STATE.SUSPENDED,
};

export function powerStateOf(state: DomainState): PowerState {
  return LIBVIRT_POWER_STATE[state];
}

/** _clean_shutdown's SHUTDOWN_STATES: the guest is down, or as good as. */
function isShutDown(state: DomainState): boolean {
  const power = powerStateOf(state);
  return power === POWER_STATE.SHUTDOWN || power === POWER_STATE.CRASHED;
}

const SECOND_MS = 1000;

/** OperationFailed names an instance; listing the host's domains concerns all of them. */
const EVERY_INSTANCE = '*';

/** Nova's InstanceNotFound: libvirt has no domain of the instance, so there is nothing to start here. */
class InstanceNotFound extends Error {
  override readonly name = 'InstanceNotFound';
  readonly transient = false;
  constructor(uuid: string) {
    super(`libvirt has no domain of instance ${uuid}`);
  }
}

export interface LibvirtDriverOptions {
  /** [DEFAULT] instances_path. */
  instancesPath: string;
  /** [libvirt] wait_soft_reboot_seconds (Nova's default 120): how long a soft reboot waits for the guest to go down. */
  waitSoftRebootSeconds: number;
}

export interface LibvirtDriverDeps {
  connection: Pick<LibvirtConnection, 'lookupByUuid' | 'domainId' | 'shutdown' | 'destroy' | 'start' | 'removeDomain' | 'listUuids'>;
  /** The metadata service's instances (MetadataRegistry): a destroyed instance is no longer served. */
  records: Pick<MetadataRegistry, 'forgetDeleted'>;
  log: Logger;
  /** The wait between two looks at a guest that is shutting down; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

export class LibvirtDriver implements InstanceDriver {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly options: LibvirtDriverOptions,
    private readonly deps: LibvirtDriverDeps,
  ) {
    if (!Number.isInteger(options.waitSoftRebootSeconds)) {
      throw new RangeError(`waitSoftRebootSeconds = ${options.waitSoftRebootSeconds}: not a whole number of seconds`);
    }
    this.sleep = deps.sleep ?? ((ms) => delay(ms));
  }

  /** destroy(destroy_disks=True): each part finds its share gone when a destroy runs again after a crash. */
  async destroy(uuid: string): Promise<void> {
    const domain = await attempt('destroy', uuid, 'libvirt', () => this.deps.connection.removeDomain(uuid));
    await attempt('destroy', uuid, 'instance_files', () => this.deleteInstanceFiles(uuid));
    this.deps.log.info('Instance destroyed successfully.', { instance: uuid, domain });
  }

  async powerOff(uuid: string, { timeoutS, retryIntervalS }: PowerOffOptions): Promise<void> {
    await attempt('power_off', uuid, 'libvirt', async () => {
      if (timeoutS > 0) await this.cleanShutdown(uuid, timeoutS, retryIntervalS);
      await this.hardPowerOff(uuid);
      await this.logDomain(uuid, 'power_off');
    });
  }

  /** power_on: a domain in any state but running is powered off and started, as by Nova's (a hard reboot). */
  async powerOn(uuid: string): Promise<void> {
    await attempt('power_on', uuid, 'libvirt', async () => {
      const domain = await this.existing(uuid);
      if (powerStateOf(domain.state) !== POWER_STATE.RUNNING) await this.restart(domain);
      await this.logDomain(uuid, 'power_on');
    });
  }

  /** reboot: a soft reboot that fails or times out becomes a hard one, as in Nova. */
  async reboot(uuid: string, type: RebootType): Promise<void> {
    await attempt('reboot', uuid, 'libvirt', async () => {
      if (type !== 'SOFT' || !(await this.softRebooted(uuid))) await this.restart(await this.existing(uuid));
      await this.logDomain(uuid, `${type.toLowerCase()} reboot`);
    });
  }

  /**
   * get_console_output, from the file our domain XML sends the serial console to (Nova reads the path off the
   * domain's XML, for the pty and tcp consoles it may also have); no domain is needed to read it.
   */
  async consoleOutput(uuid: string): Promise<Buffer> {
    return attempt('get_console_output', uuid, 'console_log', () => consoleTail(consoleLogPath(this.options.instancesPath, uuid), MAX_CONSOLE_BYTES));
  }

  async powerState(uuid: string): Promise<PowerState> {
    const domain = await attempt('get_info', uuid, 'libvirt', () => this.deps.connection.lookupByUuid(uuid));
    return domain === null ? POWER_STATE.NOSTATE : powerStateOf(domain.state);
  }

  /** As Nova's: every domain libvirt has, those of other tools included (Nova's host filters none out either). */
  async listInstanceUuids(): Promise<string[]> {
    return attempt('list_instance_uuids', EVERY_INSTANCE, 'libvirt', () => this.deps.connection.listUuids());
  }

  /**
   * delete_instance_files, the metadata record first: once it is gone no discovery brings the instance back
   * to the metadata service, whatever becomes of the rest. The removal is made durable before the destroy
   * counts as done, so a power cut cannot bring back the directory of a deleted instance.
   */
  private async deleteInstanceFiles(uuid: string): Promise<void> {
    const directory = instanceDir(this.options.instancesPath, uuid);
    await rm(join(directory, RECORD_FILE), { force: true });
    await this.deps.records.forgetDeleted(uuid);
    await rm(directory, { recursive: true, force: true });
    await syncPath(this.options.instancesPath);
  }

  /**
   * _clean_shutdown: an ACPI shutdown, the state looked at once a second up to timeoutS, the request sent
   * again every retryIntervalS (Nova's countdown sends it every retryIntervalS + 1). Whether the guest went
   * down is only logged: the hard power off follows either way.
   */
  private async cleanShutdown(uuid: string, timeoutS: number, retryIntervalS: number): Promise<void> {
    const context = { instance: uuid };
    const domain = await this.deps.connection.lookupByUuid(uuid);
    if (domain === null || isShutDown(domain.state)) {
      this.deps.log.info('Instance already shutdown.', context);
      return;
    }
    await this.requestShutdown(uuid, domain.name);
    for (let second = 0; second < timeoutS; second++) {
      const now = await this.deps.connection.lookupByUuid(uuid);
      if (now === null || isShutDown(now.state)) {
        this.deps.log.info(`Instance shutdown successfully after ${second} seconds.`, context);
        return;
      }
      // A refused request most likely means the guest just went down: look again at once, as Nova does.
      if (second > 0 && second % Math.max(retryIntervalS, 1) === 0 && !(await this.requestShutdown(uuid, now.name))) continue;
      await this.sleep(SECOND_MS);
    }
    this.deps.log.info(`Instance failed to shutdown in ${timeoutS} seconds.`, context);
  }

  /**
   * guest.shutdown() as _clean_shutdown sends it: a refusal (the guest going down already, a state that takes
   * no ACPI) is logged and ignored, since a hard power off follows anyway; false then. A libvirt that cannot
   * be reached is not ignored.
   */
  private async requestShutdown(uuid: string, name: string): Promise<boolean> {
    try {
      await this.deps.connection.shutdown(name);
      return true;
    } catch (error) {
      if (!(error instanceof LibvirtFailure) || error.transient) throw error;
      this.deps.log.debug('Ignoring libvirt exception from shutdown request', { instance: uuid, reason: error.message });
      return false;
    }
  }

  /**
   * What libvirt holds of the domain once an operation on it is done: its state and the id of its current run
   * (a new one at every start, none while it is not running). Nova's driver logs only its own steps; this
   * line is what shows an operator, or a test of test:///default (whose domains live in the daemon's process
   * only), that the domain really changed.
   */
  private async logDomain(uuid: string, operation: string): Promise<void> {
    const domain = await this.deps.connection.lookupByUuid(uuid);
    const id = domain === null ? null : await this.deps.connection.domainId(domain.name);
    this.deps.log.info(`after ${operation} the domain is ${domain?.state ?? 'gone'}`, { instance: uuid, domain: domain?.name, state: domain?.state ?? 'gone', domain_id: id ?? 'none' });
  }

  /** _destroy, keeping the definition: the domain stopped at once. No domain: nothing to stop. */
  private async hardPowerOff(uuid: string): Promise<void> {
    const domain = await this.deps.connection.lookupByUuid(uuid);
    if (domain !== null && domain.state !== 'shutoff') await this.deps.connection.destroy(domain.name);
  }

  /** reboot's SOFT attempt: _soft_reboot, whose libvirt failures, like its timeout, call for a hard reboot. */
  private async softRebooted(uuid: string): Promise<boolean> {
    const context = { instance: uuid };
    try {
      if (await this.softReboot(uuid)) {
        this.deps.log.info('Instance soft rebooted successfully.', context);
        return true;
      }
    } catch (error) {
      if (!(error instanceof LibvirtFailure)) throw error;
      this.deps.log.debug('Instance soft reboot failed', { ...context, reason: error.message });
    }
    this.deps.log.warning('Failed to soft reboot instance. Trying hard reboot.', context);
    return false;
  }

  /**
   * _soft_reboot: an ACPI shutdown of a running guest, then up to waitSoftRebootSeconds for the domain to
   * get a new id (it stopped, or restarted itself); stopped, it is started. False when the id never changed:
   * the guest ignored the request, or was not running (its id stays none).
   */
  private async softReboot(uuid: string): Promise<boolean> {
    const before = await this.guest(uuid);
    if (powerStateOf(before.state) === POWER_STATE.RUNNING) await this.deps.connection.shutdown(before.name);
    for (let second = 0; second < this.options.waitSoftRebootSeconds; second++) {
      const now = await this.guest(uuid);
      if (now.id !== before.id) {
        if (isShutDown(now.state)) {
          this.deps.log.info('Instance shutdown successfully.', { instance: uuid });
          await this.deps.connection.start(now);
        } else {
          this.deps.log.info('Instance may have been rebooted during soft reboot, so return now.', { instance: uuid });
        }
        return true;
      }
      await this.sleep(SECOND_MS);
    }
    return false;
  }

  /** The domain's state and the id of its current run (null while not running). */
  private async guest(uuid: string): Promise<DomainStatus & { id: number | null }> {
    const domain = await this.existing(uuid);
    return { ...domain, id: await this.deps.connection.domainId(domain.name) };
  }

  /** _hard_reboot without the regenerated XML (see the module comment): powered off unless shut off, then started. */
  private async restart(domain: DomainStatus): Promise<void> {
    if (domain.state !== 'shutoff') await this.deps.connection.destroy(domain.name);
    await this.deps.connection.start(domain);
  }

  private async existing(uuid: string): Promise<DomainStatus> {
    const domain = await this.deps.connection.lookupByUuid(uuid);
    if (domain === null) throw new InstanceNotFound(uuid);
    return domain;
  }
}

/** Runs a step of the operation on the instance; whatever it throws leaves as an OperationFailed. */
async function attempt<T>(operation: string, uuid: string, step: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw asOperationFailed(uuid, step, error, operation);
  }
}

/**
 * _get_console_output_file: the last `limit` bytes of the console log, continued into the files virtlogd
 * rotated it to (console.log.0 the newest) while the log itself holds less. Empty when there is no log.
 */
async function consoleTail(path: string, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let wanted = limit;
  for (let rotation = 0, file = path; wanted > 0; file = `${path}.${rotation++}`) {
    const tail = await lastBytes(file, wanted);
    if (tail === null) break;
    parts.unshift(tail);
    wanted -= tail.length;
  }
  return Buffer.concat(parts);
}

/** nova.privsep.path.last_bytes: up to `count` bytes from the end of the file; null when there is no file. */
async function lastBytes(path: string, count: number): Promise<Buffer | null> {
  const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (file === null) return null;
  try {
    const { size } = await file.stat();
    const length = Math.min(size, count);
    const { bytesRead, buffer } = await file.read(Buffer.alloc(length), 0, length, size - length);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
