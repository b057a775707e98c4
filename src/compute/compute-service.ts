/**
 * nova-spawnd as a compute service of a Nova control plane (when [placement] has credentials): the
 * nova-compute service record and its heartbeat, the ComputeNode kept current from libvirt's host facts,
 * and its resource provider, inventory and traits in placement, as nova-compute's init_host and
 * update_available_resource keep them. Composed and started here; every option read once, at start.
 */
import type { BusOptions } from '../bus/bus-options.js';
import { RpcClient } from '../bus/rpc-client.js';
import { Adapter } from '../clients/adapter.js';
import { NeutronClient } from '../clients/neutron.js';
import { PlacementClient } from '../clients/placement.js';
import { sessionFromConfig } from '../clients/session.js';
import { ComputeNodeKeeper } from '../conductor/compute-node-keeper.js';
import { ComputeTaskApi } from '../conductor/compute-task-api.js';
import { ConductorApi } from '../conductor/conductor-api.js';
import { ServiceReporter } from '../conductor/service-reporter.js';
import type { NovaConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { HostResourceReader } from '../resources/host-resources.js';
import { PlacementReporter } from '../resources/placement-reporter.js';
import type { LibvirtConnection } from '../virt/connection.js';
import { NetworkAPI, networkApiOptions } from '../network/network-api.js';
import { NovaBuild } from './build.js';
import { InstanceNetwork } from './instance-network.js';
import type { SpawnPipeline } from './spawn-pipeline.js';
import type { Builder, Lifecycle } from './compute-manager.js';
import { ComputeApi } from './compute-api.js';
import type { InstanceDriver } from './driver.js';
import { NovaLifecycle, type NovaLifecycleDeps } from './lifecycle.js';
import type { PowerOffTimes } from './local-lifecycle.js';
import { PeriodicTask } from './periodic-task.js';
import { PowerStateSync, type PerInstance } from './power-sync.js';
import type { Spawner } from './spawner.js';

export interface ComputeService {
  /** Resolves once the service is registered and its compute node saved and reported to placement. */
  ready(): Promise<void>;
  /** The ComputeNode keeper: the build and delete paths ask it to update after usage changed. */
  readonly nodes: ComputeNodeKeeper;
  /**
   * How the compute manager builds: Nova's build (build.ts) around `pipeline`, every step saved through
   * nova-conductor, failures rescheduled to an alternate host or recorded as faults and ERROR, allocations
   * removed.
   */
  builds(pipeline: Spawner & Pick<SpawnPipeline, 'rootDeviceName'>): Builder;
  /** How the compute manager terminates, stops, starts and reboots: Nova's bookkeeping around `driver`. */
  lifecycle(host: { driver: InstanceDriver; powerOff: PowerOffTimes }): Lifecycle;
  /**
   * Starts the periodic tasks on the instances (_sync_power_states every sync_power_state_interval,
   * _cleanup_running_deleted_instances every running_deleted_instance_poll_interval), each instance's part in
   * turn with its operations (`perInstance`): the first runs once the service is registered.
   */
  startPeriodicTasks(driver: InstanceDriver, perInstance: PerInstance): void;
  /** The health check's probe: throws saying why unless nova-conductor answered the service's last call. */
  checkConductor(): void;
  /** The instances' ports through Neutron; network-changed refreshes their cache through it. */
  readonly network: InstanceNetwork;
  stop(): Promise<void>;
}

export interface ComputeServiceDeps {
  connection: LibvirtConnection;
  log: Logger;
  /**
   * Where the lifecycle's versioned notifications go (the bus's notifier), when Nova's configuration enables
   * them; absent, the lifecycle notifies nothing and loads nothing for a payload.
   */
  notify?: NovaLifecycleDeps['notify'];
  /** The conductor's state, the rpc_client broker connection's, and every Instance.save timed; default none. */
  metrics?: Metrics;
}

export function startComputeService(config: NovaConfig, bus: BusOptions, deps: ComputeServiceDeps): ComputeService {
  const { log } = deps;
  const defaults = config.DEFAULT;
  const session = sessionFromConfig('placement', config.placement);
  // run starts a compute service only when controlPlaneConfigured(config), which is what makes a session.
  if (session === null) throw new Error('a compute service needs [placement] auth_type');
  const placementClient = new PlacementClient(new Adapter(session, 'placement', config.placement));
  const placement = new PlacementReporter(placementClient, defaults, log.child('placement'));
  const rpc = new RpcClient({
    broker: bus.rpc,
    name: `nova-spawnd:${bus.host}:rpc-client`,
    controlExchange: bus.controlExchange,
    queueMode: bus.queueMode,
    responseTimeoutMs: defaults.rpc_response_timeout * 1000,
    log: log.child('rpc_client'),
    ...(deps.metrics ? { metrics: deps.metrics.broker('rpc_client') } : {}),
  });
  const conductor = new ConductorApi(rpc);
  const services = new ServiceReporter({
    conductor,
    host: defaults.host,
    reportIntervalS: defaults.report_interval,
    enableNewServices: defaults.enable_new_services,
    log: log.child('servicegroup'),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  // libvirt's test driver is what the embedded default and the tests run on: as Nova's fake driver does, its
  // node is named after [DEFAULT] host, so daemons on one machine are as many nodes (libvirt's hostname would
  // give them one name, and placement a name clash). Real hypervisors are named by libvirt, as in Nova.
  const testDriver = deps.connection.uri.startsWith('test:');
  const reader = new HostResourceReader(deps.connection, defaults, testDriver ? { hypervisorHostname: defaults.host } : {});
  const nodes = new ComputeNodeKeeper({
    conductor,
    host: defaults.host,
    readResources: () => reader.read(),
    ratios: defaults,
    updateResourcesIntervalS: defaults.update_resources_interval,
    log: log.child('resource_tracker'),
    onUpdate: async (node) => placement.report(node, (await services.registered()).get('disabled') ?? false),
  });
  rpc.start();
  services.start();
  nodes.start();
  const periodic: PeriodicTask[] = [];
  const bookkeeping = { conductor, host: defaults.host, log: log.child('compute'), metrics: deps.metrics };
  const neutron = new NeutronClient(config.neutron);
  const network = new InstanceNetwork({
    network: new NetworkAPI(neutron, { ...networkApiOptions(config), log: log.child('network') }),
    conductor,
    host: defaults.host,
    log: log.child('network'),
  });
  return {
    nodes,
    network,
    builds: (pipeline) =>
      new NovaBuild(pipeline, {
        conductor,
        computeTask: new ComputeTaskApi(rpc),
        placement: placementClient,
        neutron,
        network,
        nodes,
        connection: deps.connection,
        host: defaults.host,
        log: log.child('compute'),
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
        rootDeviceName: (request) => pipeline.rootDeviceName(request),
      }),
    lifecycle: ({ driver, powerOff }) =>
      new NovaLifecycle({
        ...bookkeeping,
        driver,
        placement: placementClient,
        nodes,
        network,
        shutdownTimeoutS: powerOff.shutdownTimeoutS,
        shutdownRetryIntervalS: powerOff.shutdownRetryIntervalS,
        ...(deps.notify ? { notify: deps.notify } : {}),
      }),
    startPeriodicTasks: (driver, perInstance) => {
      const sync = new PowerStateSync({
        ...bookkeeping,
        driver,
        computeApi: new ComputeApi({ ...bookkeeping, rpc }),
        runningDeletedInstanceAction: defaults.running_deleted_instance_action,
        runningDeletedInstanceTimeoutS: defaults.running_deleted_instance_timeout,
      });
      periodic.push(
        new PeriodicTask('_sync_power_states', defaults.sync_power_state_interval, () => sync.powerSync(perInstance), log.child('periodic')),
        new PeriodicTask('_cleanup_running_deleted_instances', defaults.running_deleted_instance_poll_interval, () => sync.cleanupRunningDeleted(perInstance), log.child('periodic')),
      );
      // Nova starts them once its service record exists: a first run before the conductor answers is lost.
      for (const task of periodic) task.start(services.registered());
    },
    checkConductor: () => services.checkConductor(),
    ready: async () => {
      await Promise.all([services.registered(), nodes.ready()]);
    },
    stop: async () => {
      await Promise.all([services.stop(), nodes.stop(), ...periodic.map((task) => task.stop())]);
      await rpc.close();
    },
  };
}
