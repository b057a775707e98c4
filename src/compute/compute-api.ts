/**
 * The part of Nova's compute API (nova/compute/api.py) a compute service calls itself: force_stop, which
 * _sync_instance_power_state calls (through API.stop) for a guest that powered itself off, "instead of
 * brutally updating the vm_state in the database". As nova-api would: the task state saved, the instance
 * action recorded, then stop_instance cast to the instance's host (nova/compute/rpcapi.py: topic compute,
 * server <host>, version 6.0, no namespace), where the owner of the instance runs the stop.
 */
import type { RpcTarget } from '../bus/rpc-client.js';
import type { RpcCaster } from '../conductor/compute-task-api.js';
import type { RequestContext } from '../conductor/request-context.js';
import type { WireObject } from '../nova/wire-object.js';
import type { BookkeepingDeps } from './instance-bookkeeping.js';
import { InstanceBookkeeping } from './instance-bookkeeping.js';

/** ComputeAPI's RPC target for `host`: 6.0, what a Zed control plane of Zed computes sends (_ver). */
export function computeTarget(host: string): RpcTarget {
  return { topic: 'compute', server: host, namespace: null, version: '6.0' };
}

export interface ComputeApiDeps extends BookkeepingDeps {
  rpc: RpcCaster;
}

export class ComputeApi {
  constructor(private readonly deps: ComputeApiDeps) {}

  /**
   * force_stop(do_cast=True, clean_shutdown=True):
   *   Instance.save [task_state=powering-off, progress=0]  expected_task_state [None]
   *   InstanceAction.action_start(uuid, "stop", want_result=False)
   *   cast stop_instance {instance, clean_shutdown} to compute.<instance.host>
   * The action and the cast carry `context`, so that stop_instance's event finds its action by request id.
   * Rejects with OperationFailed (OperationStopped for an instance deleted meanwhile).
   */
  async forceStop(instance: WireObject, context: RequestContext, cleanShutdown = true): Promise<void> {
    const book = new InstanceBookkeeping(this.deps, instance.require('uuid') as string, 'force_stop', context);
    await book.save(instance, { task_state: 'powering-off', progress: 0 }, [null]);
    await book.classAction('InstanceAction', 'action_start', [book.uuid, 'stop'], { want_result: false });
    const host = instance.require('host') as string;
    await book.step('cast stop_instance', () => this.deps.rpc.cast(computeTarget(host), context, 'stop_instance', { instance: instance.toPrimitive(), clean_shutdown: cleanShutdown }));
  }
}
