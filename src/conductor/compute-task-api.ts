/**
 * The conductor's compute_task API as a compute reschedules a build (nova/conductor/rpcapi.py
 * ComputeTaskAPI.build_instances): a cast on topic `conductor`, namespace `compute_task`, version 1.19, the
 * newest Nova 26 sends, which carries host_lists and request_spec and no block_device_mapping.
 */
import type { RpcTarget } from '../bus/rpc-client.js';
import type { WireObject } from '../nova/wire-object.js';

/** The one method of RpcClient used here. */
export interface RpcCaster {
  cast(target: RpcTarget, context: Record<string, unknown>, method: string, args: Record<string, unknown>): Promise<void>;
}

export const COMPUTE_TASK_TARGET: RpcTarget = { topic: 'conductor', namespace: 'compute_task', version: '1.19' };

/**
 * build_instances' arguments. Everything but the instances is forwarded as the build_and_run_instance cast
 * carried it (request_spec, requested_networks and the host list still as NovaObject primitives).
 */
export interface BuildInstancesArgs {
  instances: WireObject[];
  image: unknown;
  filter_properties: Record<string, unknown>;
  admin_password: unknown;
  injected_files: unknown;
  requested_networks: unknown;
  security_groups: unknown;
  request_spec: unknown;
  /** One list of the remaining alternate hosts (Selection primitives) per instance. */
  host_lists: unknown[][];
}

export class ComputeTaskApi {
  constructor(private readonly rpc: RpcCaster) {}

  /** Resolves once the broker has the cast: the conductor then claims an alternate host and casts the build there. */
  async buildInstances(context: Record<string, unknown>, args: BuildInstancesArgs): Promise<void> {
    await this.rpc.cast(COMPUTE_TASK_TARGET, context, 'build_instances', { ...args, instances: args.instances.map((instance) => instance.toPrimitive()) });
  }
}
