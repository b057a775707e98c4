import { parseArgs } from 'node:util';
import { readBusOptions } from '../bus/bus-options.js';
import { notificationsEnabled } from '../bus/notifier.js';
import { SpawnDaemon } from '../bus/spawn-daemon.js';
import { composeComputeManager, composeSpawner } from '../compute/compose.js';
import { startComputeService, type ComputeService } from '../compute/compute-service.js';
import type { LifecycleNotification } from '../compute/lifecycle.js';
import { controlPlaneConfigured } from '../config/control-plane.js';
import { metadataApiEnabled, startMetadataServer } from '../metadata-api/server.js';
import { daemonProbes } from '../metrics/health.js';
import { PrometheusMetrics } from '../metrics/prometheus.js';
import { metricsEnabled, serveMetrics } from '../metrics/server.js';
import { effectiveLines } from '../config/render.js';
import { configureLogging, getLogger } from '../log.js';
import { daemonStatus } from '../systemd/daemon-status.js';
import { SystemdNotifier } from '../systemd/notify.js';
import { VERSION } from '../version.js';
import { hostUptime } from '../virt/host-uptime.js';
import { configFileOption, loadFromArgs } from './config-options.js';
import { EX_OK } from './exit-codes.js';

export const runHelp = `usage: nova-spawnd run [--config-file FILE]... [--config-dir DIR]...

Runs the daemon in the foreground (what the systemd unit starts): consumes build_and_run_instance from the
compute.<host> queue of [DEFAULT] transport_url and spawns the guests, and serves the metadata API on
[DEFAULT] metadata_listen:metadata_listen_port when [DEFAULT] enabled_apis lists metadata, and Prometheus metrics
(/metrics) and a health check (/healthz) on [nova_spawnd] metrics_listen:metrics_listen_port. SIGTERM or SIGINT stops it after the
builds in flight, waiting at most [DEFAULT] graceful_shutdown_timeout seconds (exit 0); SIGHUP re-reads
the logging options ([DEFAULT] debug, default_log_levels, ...) and reopens the log file. With [placement] credentials it is a compute service of a Nova control plane: it
registers as nova-compute through nova-conductor and reports its compute node to placement.`;

export async function run(args: string[]): Promise<number> {
  parseArgs({ args, options: configFileOption, strict: true });
  // Before anything is logged: a supervisor may signal as soon as it sees us start, and SIGHUP's default
  // action would kill us.
  let onHangup: () => void = () => undefined;
  process.on('SIGHUP', () => onHangup());
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const loaded = loadFromArgs(args);
  configureLogging(loaded.config.DEFAULT);
  const log = getLogger('nova_spawnd');
  // Type=notify: READY=1 once consuming, STATUS= lines, the watchdog's pings (from now on), RELOADING=1 on SIGHUP.
  const systemd = SystemdNotifier.fromEnvironment(process.env, log.child('systemd'));
  log.info(`nova-spawnd ${VERSION} starting`, { host: loaded.config.DEFAULT.host, files: loaded.files.join(',') || 'none' });
  for (const line of effectiveLines(loaded.config)) log.debug(line);
  onHangup = () => systemd.reloading(() => {
    try {
      const options = loadFromArgs(args).config.DEFAULT;
      configureLogging(options);
      log.info('SIGHUP: logging options re-read, log file reopened', { debug: options.debug });
    } catch (error) {
      log.error(`SIGHUP: configuration not re-read, keeping the current logging: ${(error as Error).message}`);
    }
  });

  const { config } = loaded;
  const bus = readBusOptions(config);
  // The one place the daemon's Spawner is made. Every spawn records its instance's metadata in its directory
  // before the guest starts, whether or not this process serves the metadata API.
  const metrics = metricsEnabled(config) ? new PrometheusMetrics({ version: VERSION, controlPlane: controlPlaneConfigured(config) }) : undefined;
  const spawner = await composeSpawner(loaded, log, { ...(metrics ? { metrics } : {}) });
  const { registry } = spawner;
  const metadataServer = metadataApiEnabled(config) ? await startMetadataServer({ config, registry, log: log.child('metadata_api'), ...(metrics ? { metrics } : {}) }) : null;
  if (metadataServer) log.info('metadata API listening', { address: metadataServer.address, port: metadataServer.port, instances: registry.size });
  // With placement credentials, a compute service of the control plane: it registers and reports its
  // resources in the background, retrying a conductor or placement that does not answer yet, and its builds
  // are Nova's (each step saved through nova-conductor, a failure an ERROR with its fault).
  let computeService: ComputeService | null = null;
  let registered: boolean | null = null;
  // The lifecycle's notifications go out through the daemon's notifier. The daemon is made below,
  // after the compute manager it hands the casts to; an operation reaches the lifecycle only through it.
  let daemon: SpawnDaemon | null = null;
  if (controlPlaneConfigured(config)) {
    const notify = notificationsEnabled(bus) ? (notification: LifecycleNotification) => daemon!.notifyInstanceAction(notification) : undefined;
    computeService = startComputeService(config, bus, { connection: spawner.connection, log, ...(notify ? { notify } : {}), ...(metrics ? { metrics } : {}) });
    registered = false;
    computeService.ready().then(
      () => {
        registered = true;
        log.info('registered with the control plane: service up, compute node reported to placement', { host: config.DEFAULT.host });
      },
      () => undefined,
    );
  } else {
    log.info('no [placement] credentials: running standalone, not registered with a Nova control plane');
  }
  const compute = composeComputeManager(loaded, spawner, computeService ? { builder: computeService.builds(spawner.pipeline), lifecycle: computeService.lifecycle(spawner), network: computeService.network } : null, log, metrics);
  computeService?.startPeriodicTasks(spawner.driver, (uuid, work) => compute.withInstance(uuid, work));
  daemon = new SpawnDaemon(
    { bus },
    { compute, queries: { get_host_uptime: hostUptime, 'baseapi.ping': async (args) => ({ service: 'compute', arg: args['arg'] ?? null }) }, log: log.child('bus'), ...(metrics ? { metrics } : {}) },
  );
  daemon.start();
  const running = daemon;
  const metricsServer = metrics ? await serveMetrics(config, metrics, daemonProbes({ bus: daemon, libvirt: spawner.connection, conductor: computeService }), log.child('metrics')) : null;
  systemd.watchStatus(() => daemonStatus(running, registered), 1000);
  // The metadata API listens already; the service registration, when there is one, is part of being ready.
  Promise.all([daemon.ready(), computeService?.ready()]).then(
    () => systemd.ready(daemonStatus(running, registered)),
    () => undefined,
  );

  // Signal handlers do not keep Node's event loop alive, and between two connection attempts nothing else may.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const signal = await stopped;
  systemd.stopping(`received ${signal}: finishing the ${daemon.busy} builds in flight`);
  const graceSeconds = config.DEFAULT.graceful_shutdown_timeout;
  log.info(`received ${signal}: no new builds, waiting ${graceSeconds === 0 ? 'as long as they take' : `up to ${graceSeconds} s`} for the ${daemon.busy} in flight`);
  const finished = await daemon.stop(graceSeconds === 0 ? null : graceSeconds * 1000);
  await computeService?.stop();
  await metadataServer?.close();
  await metricsServer?.close();
  await spawner.close();
  clearInterval(keepAlive);
  systemd.close();
  log.info(finished ? 'stopped' : 'stopped with builds unfinished (left unacked for redelivery)');
  return EX_OK;
}
