/**
 * The nova-compute service record and its heartbeat, as nova/service.py Service.start and
 * nova/servicegroup/drivers/db.py do them:
 * - at start Service.get_by_host_and_binary(host, "nova-compute"); a record found with another version is
 *   saved with Nova 26's SERVICE_VERSION (_update_service_ref); none found: Service.create with host, binary,
 *   topic "compute", report_count 0, version 64 (_create_service_ref), and, with [DEFAULT]
 *   enable_new_services = false, disabled with Nova's own reason (Nova's database layer does that with the
 *   conductor's option; we honour the compute's). A create that races another (ServiceTopicExists,
 *   ServiceBinaryExists) reads the winner's record.
 * - then every report_interval: report_count + 1, Service.save (_report_state). The control plane counts the
 *   service up while the record's updated_at is younger than its service_down_time, and a save that changes
 *   nothing writes nothing: report_count is what moves updated_at.
 * A lost conductor (MessagingTimeout, ConnectionLost) is logged once and retried on the next tick, never
 * fatal; so is any other failure, as Nova's _report_state catches everything. Registration is retried with
 * backoff until it succeeds or stop() is called.
 */
import { backoffDelay, sleep, type Backoff } from '../backoff.js';
import { RpcCallError } from '../bus/rpc-call-error.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ServiceFields } from '../nova/compute-objects.js';
import { NOVA_26_SERVICE_VERSION } from '../nova/object-versions.js';
import { WireObject } from '../nova/wire-object.js';
import type { ConductorApi } from './conductor-api.js';

export const COMPUTE_BINARY = 'nova-compute';
export const COMPUTE_TOPIC = 'compute';
/** nova/db/main/api.py service_create's reason for a service enable_new_services disables. */
export const NEW_SERVICE_DISABLED_REASON = 'New compute service disabled due to config option.';
/** nova/servicegroup/api.py INITIAL_REPORTING_DELAY: the first heartbeat's delay after registration. */
const INITIAL_REPORTING_DELAY_MS = 5_000;

export type ServiceRecord = WireObject<ServiceFields>;

export interface ServiceReporterOptions {
  conductor: ConductorApi;
  /** [DEFAULT] host. */
  host: string;
  /** [DEFAULT] report_interval, seconds (> 0). */
  reportIntervalS: number;
  /** [DEFAULT] enable_new_services. */
  enableNewServices: boolean;
  log: Logger;
  /** Between registration attempts; default 1 s doubling to 30 s. */
  retry?: Backoff;
  /** Told whether each registration attempt and heartbeat was answered; default none. */
  metrics?: Pick<Metrics, 'conductorAnswered'>;
}

const DEFAULT_RETRY: Backoff = { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 };

export class ServiceReporter {
  private record: ServiceRecord | null = null;
  private readonly stopping = new AbortController();
  private running: Promise<void> | null = null;
  private resolveRegistered!: (service: ServiceRecord) => void;
  private readonly registration: Promise<ServiceRecord>;
  /** Nova's model_disconnected: the last heartbeat failed (logged once until one succeeds). */
  private disconnected = false;
  private reports = 0;
  /** Why nova-conductor does not answer the service, null while its last call was answered. */
  private unanswered: string | null = 'not registered yet';

  constructor(private readonly options: ServiceReporterOptions) {
    if (!Number.isInteger(options.reportIntervalS) || options.reportIntervalS <= 0) {
      throw new Error(`service reporter: report_interval must be a positive number of seconds (got ${options.reportIntervalS})`);
    }
    this.registration = new Promise((resolve) => (this.resolveRegistered = resolve));
    // A stop() before registration leaves registered() pending forever; nobody should wait on it then.
    this.registration.catch(() => undefined);
  }

  /** The service record as last saved, null until registered. */
  get service(): ServiceRecord | null {
    return this.record;
  }

  /** Heartbeats saved since start (successful saves only). */
  get reportCount(): number {
    return this.reports;
  }

  /** The health check's probe: throws saying why, unless nova-conductor answered the last registration attempt or heartbeat. */
  checkConductor(): void {
    if (this.unanswered !== null) throw new Error(this.unanswered);
  }

  /** Registers (retrying until it works) and then heartbeats, in the background. */
  start(): void {
    if (this.running !== null) throw new Error('service reporter: already started');
    this.running = this.run();
  }

  /** Resolves with the record once the service is registered. */
  registered(): Promise<ServiceRecord> {
    return this.registration;
  }

  /** Ends the loop; resolves once a call in flight has returned. The record stays in Nova (and goes down). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        this.record = await this.register();
        this.answered(null);
        this.resolveRegistered(this.record);
        break;
      } catch (error) {
        this.answered(`registration failed: ${describe(error)}`);
        const delay = backoffDelay(this.options.retry ?? DEFAULT_RETRY, attempt);
        this.options.log.warning(`could not register the ${COMPUTE_BINARY} service through nova-conductor, retrying in ${delay} ms: ${describe(error)}`, {
          host: this.options.host,
          attempt,
        });
        await sleep(delay, signal);
      }
    }
    await sleep(Math.min(INITIAL_REPORTING_DELAY_MS, this.options.reportIntervalS * 1000), signal);
    while (!signal.aborted) {
      const began = Date.now();
      await this.reportState();
      await sleep(Math.max(0, this.options.reportIntervalS * 1000 - (Date.now() - began)), signal);
    }
  }

  /** nova/service.py: get the record, else create it; bring its version to ours. */
  private async register(): Promise<ServiceRecord> {
    const { conductor, host, log } = this.options;
    const found = await this.get();
    if (found !== null) {
      if (found.get('version') !== NOVA_26_SERVICE_VERSION) {
        log.info(`Updating service version for ${COMPUTE_BINARY} on ${host} from ${found.get('version')} to ${NOVA_26_SERVICE_VERSION}`);
        found.set('version', NOVA_26_SERVICE_VERSION);
        await conductor.objectAction(found, 'save');
      }
      log.info(`registered as the existing ${COMPUTE_BINARY} service ${found.get('id')} of ${host}`, { disabled: found.get('disabled') ?? null });
      return found;
    }
    const created = new WireObject<ServiceFields>('Service', {
      host,
      binary: COMPUTE_BINARY,
      topic: COMPUTE_TOPIC,
      report_count: 0,
      version: NOVA_26_SERVICE_VERSION,
      ...(this.options.enableNewServices ? {} : { disabled: true, disabled_reason: NEW_SERVICE_DISABLED_REASON }),
    });
    try {
      await conductor.objectAction(created, 'create');
    } catch (error) {
      const raced = error instanceof RpcCallError && ['ServiceTopicExists', 'ServiceBinaryExists'].includes(error.remote?.className ?? '');
      if (!raced) throw error;
      const winner = await this.get();
      if (winner === null) throw error;
      return winner;
    }
    log.info(`created the ${COMPUTE_BINARY} service ${created.get('id')} of ${host}`, { disabled: created.get('disabled') ?? null });
    return created;
  }

  private get(): Promise<ServiceRecord | null> {
    return this.options.conductor.classActionObject<ServiceFields>('Service', 'get_by_host_and_binary', 'Service', [this.options.host, COMPUTE_BINARY]);
  }

  /** servicegroup/drivers/db.py _report_state. */
  private async reportState(): Promise<void> {
    const record = this.record!;
    const { log, host } = this.options;
    try {
      record.set('report_count', (record.get('report_count') ?? 0) + 1);
      await this.options.conductor.objectAction(record, 'save');
      this.answered(null);
      this.reports++;
      if (this.disconnected) {
        this.disconnected = false;
        log.info('Recovered from being unable to report status.', { host });
      }
    } catch (error) {
      this.answered(`the last heartbeat failed: ${describe(error)}`);
      if (!this.disconnected) {
        const lost = error instanceof RpcCallError && error.retryable;
        const notFound = error instanceof RpcCallError && error.remote?.className === 'ServiceNotFound';
        if (lost) log.warning(`Lost connection to nova-conductor for reporting service status: ${describe(error)}`, { host });
        else if (notFound) {
          log.error(`The services table record for the ${COMPUTE_BINARY} service on host ${host} is gone. You either need to stop this service if it should be deleted or restart it to recreate the record in the database.`);
        } else log.error(`Unexpected error while reporting service status: ${describe(error)}`, { host });
      }
      this.disconnected = true;
    }
  }

  private answered(problem: string | null): void {
    this.unanswered = problem;
    this.options.metrics?.conductorAnswered(problem === null);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
