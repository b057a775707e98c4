/**
 * The daemon's metrics in a prom-client Registry of its own (never prom-client's global one), named as
 * Prometheus's conventions ask: nova_spawnd_ prefix, base units (seconds, bytes), _total for counters. The
 * process's own (CPU, memory, event loop lag, open fds) come from prom-client's default collectors.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BrokerMetrics, BuildStep, Metrics } from './metrics.js';

/** Seconds: a build on libvirt's test driver takes a tenth of a second, one downloading a large image minutes. */
const BUILD_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
/** Seconds: a define or a conductor save takes milliseconds, an image download minutes. */
const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface PrometheusMetricsOptions {
  version: string;
  /** A compute service of a control plane: the conductor's metrics exist (standalone, they would only mislead). */
  controlPlane: boolean;
  /** For the heartbeat's age; default Date.now. */
  nowMs?: () => number;
}

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly operations: Counter<'kind' | 'outcome'>;
  private readonly builds: Histogram<'outcome'>;
  private readonly inFlight: Gauge;
  private readonly steps: Histogram<'step'>;
  private readonly deadLetters: Counter<'reason'>;
  private readonly deadLettersRefused: Counter;
  private readonly deadLetterDepth: Gauge;
  private readonly brokerConnected: Gauge<'connection'>;
  private readonly brokerReconnects: Counter<'connection'>;
  private readonly conductorUp: Gauge | null = null;
  private readonly cacheHits: Counter;
  private readonly cacheMisses: Counter;
  private readonly downloadedBytes: Counter;
  private readonly metadataRequests: Counter<'code'>;
  /** When nova-conductor last answered the heartbeat; the start until it first does. */
  private lastHeartbeatMs: number;
  private readonly nowMs: () => number;

  constructor(options: PrometheusMetricsOptions) {
    const registers = [this.registry];
    this.nowMs = options.nowMs ?? Date.now;
    this.lastHeartbeatMs = this.nowMs();
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'nova_spawnd_build_info', help: 'Always 1: the running version, as a label.', labelNames: ['version'], registers }).set({ version: options.version }, 1);
    this.operations = new Counter({
      name: 'nova_spawnd_operations_total',
      help: 'Operations of the compute manager by kind (build, terminate, stop, start, reboot, ...) and outcome (done, retry, failed, rescheduled, stopped, abandoned).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.builds = new Histogram({ name: 'nova_spawnd_build_duration_seconds', help: 'Duration of build attempts, from the build slot to the outcome.', labelNames: ['outcome'], buckets: BUILD_BUCKETS, registers });
    this.inFlight = new Gauge({ name: 'nova_spawnd_builds_in_flight', help: 'Builds running now (holding one of max_concurrent_builds slots).', registers });
    this.steps = new Histogram({
      name: 'nova_spawnd_build_step_duration_seconds',
      help: 'Duration of the steps of builds: image (cache or download), disks, drive, define, start; conductor_save (every Instance.save through nova-conductor).',
      labelNames: ['step'],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.deadLetters = new Counter({ name: 'nova_spawnd_dead_letters_total', help: 'Messages sent to the dead-letter queue, by reason.', labelNames: ['reason'], registers });
    this.deadLettersRefused = new Counter({ name: 'nova_spawnd_dead_letters_refused_total', help: 'Dead letters the broker refused (the dead-letter queue full or gone): their messages are retried.', registers });
    this.deadLetterDepth = new Gauge({ name: 'nova_spawnd_dead_letter_queue_messages', help: 'Messages in the dead-letter queue (shared by every host), as last measured.', registers });
    this.brokerConnected = new Gauge({ name: 'nova_spawnd_broker_connected', help: '1 while the broker connection is up and set up, else 0.', labelNames: ['connection'], registers });
    this.brokerReconnects = new Counter({ name: 'nova_spawnd_broker_reconnects_total', help: 'Broker connections re-established after one was lost.', labelNames: ['connection'], registers });
    if (options.controlPlane) {
      this.conductorUp = new Gauge({ name: 'nova_spawnd_conductor_up', help: "1 when nova-conductor saved the service's last heartbeat (or its registration), else 0.", registers });
      const since = (): number => (this.nowMs() - this.lastHeartbeatMs) / 1000;
      new Gauge({
        name: 'nova_spawnd_heartbeat_age_seconds',
        help: 'Seconds since nova-conductor last saved the service heartbeat (since the start, before the first). Nova counts the service down past service_down_time.',
        registers,
        collect() {
          this.set(since());
        },
      });
    }
    this.cacheHits = new Counter({ name: 'nova_spawnd_image_cache_hits_total', help: 'Images found in the local image cache (_base).', registers });
    this.cacheMisses = new Counter({ name: 'nova_spawnd_image_cache_misses_total', help: 'Images not in the local cache, downloaded from Glance.', registers });
    this.downloadedBytes = new Counter({ name: 'nova_spawnd_image_download_bytes_total', help: 'Bytes of images received from Glance.', registers });
    this.metadataRequests = new Counter({ name: 'nova_spawnd_metadata_requests_total', help: 'Requests the metadata API answered, by HTTP status code.', labelNames: ['code'], registers });
  }

  operation(kind: string, outcome: string): void {
    this.operations.inc({ kind, outcome });
  }

  buildStarted(): (outcome: string) => void {
    this.inFlight.inc();
    const end = this.builds.startTimer();
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      this.inFlight.dec();
      end({ outcome });
    };
  }

  step(step: BuildStep, seconds: number): void {
    this.steps.observe({ step }, seconds);
  }

  deadLetter(reason: string): void {
    this.deadLetters.inc({ reason });
  }

  deadLetterRefused(): void {
    this.deadLettersRefused.inc();
  }

  deadLetterQueueDepth(messages: number): void {
    this.deadLetterDepth.set(messages);
  }

  broker(connection: string): BrokerMetrics {
    this.brokerConnected.set({ connection }, 0);
    this.brokerReconnects.inc({ connection }, 0);
    return {
      connected: (up) => this.brokerConnected.set({ connection }, up ? 1 : 0),
      reconnected: () => this.brokerReconnects.inc({ connection }),
    };
  }

  conductorAnswered(answered: boolean): void {
    this.conductorUp?.set(answered ? 1 : 0);
    if (answered) this.lastHeartbeatMs = this.nowMs();
  }

  imageCache(result: 'hit' | 'miss'): void {
    (result === 'hit' ? this.cacheHits : this.cacheMisses).inc();
  }

  imageBytesDownloaded(bytes: number): void {
    this.downloadedBytes.inc(bytes);
  }

  metadataRequest(status: number): void {
    this.metadataRequests.inc({ code: String(status) });
  }

  /** The text exposition format, and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
