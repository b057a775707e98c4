/**
 * Nova's objects through nova-conductor, as a compute's remotable methods reach them (the
 * VersionedObject indirection_api, nova/conductor/rpcapi.py ConductorAPI): RPC calls on topic `conductor`,
 * API 3.0, no namespace.
 * - object_class_action_versions(objname, objmethod, object_versions, args, kwargs) for class methods
 *   (Service.get_by_host_and_binary, ComputeNode.get_by_host_and_nodename, ...); object_versions is
 *   obj_tree_get_versions(objname), so the conductor answers in the versions we read.
 * - object_action(objinst, objmethod, args, kwargs) for methods on an object (create, save, destroy); the
 *   answer [updates, result] is applied to our copy as oslo's remotable does (WireObject.applyUpdates).
 * Arguments travel through NovaObjectSerializer's rules (objects as primitives, in lists and dicts too) and
 * results come back decoded: a NovaObject primitive as a WireObject, a list of them as WireObjects.
 */
import type { RpcTarget } from '../bus/rpc-client.js';
import { objectTreeVersions } from '../nova/object-versions.js';
import { isNovaPrimitive, MalformedNovaObject, WireObject, type FieldMap } from '../nova/wire-object.js';
import { adminContext, type RequestContext } from './request-context.js';

/** The one method of RpcClient used here (a pure unit test may hand a stand-in). */
export interface RpcCaller {
  call(target: RpcTarget, context: Record<string, unknown>, method: string, args: Record<string, unknown>): Promise<unknown>;
}

/** nova/conductor/rpcapi.py: RPC_TOPIC 'conductor', the 3.0 API, the object calls in the default namespace. */
export const CONDUCTOR_TARGET: RpcTarget = { topic: 'conductor', namespace: null, version: '3.0' };

export class ConductorApi {
  constructor(private readonly rpc: RpcCaller) {}

  /**
   * A remotable class method: `objName.objMethod(context, *args, **kwargs)` run by the conductor. Resolves
   * with the result decoded (null, a WireObject, an array, a plain value); rejects with RpcCallError.
   */
  async classAction(
    objName: string,
    objMethod: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown> = {},
    context: RequestContext = adminContext(),
  ): Promise<unknown> {
    const result = await this.rpc.call(CONDUCTOR_TARGET, context, 'object_class_action_versions', {
      objname: objName,
      objmethod: objMethod,
      object_versions: objectTreeVersions(objName),
      args: args.map(serializeEntity),
      kwargs: serializeDict(kwargs),
    });
    return deserializeEntity(result, `${objName}.${objMethod}()`);
  }

  /** classAction whose result must be one `expected` object, or null (get_by_* that answer None). */
  async classActionObject<F extends FieldMap>(
    objName: string,
    objMethod: string,
    expected: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown> = {},
    context: RequestContext = adminContext(),
  ): Promise<WireObject<F> | null> {
    const result = await this.classAction(objName, objMethod, args, kwargs, context);
    if (result === null) return null;
    if (!(result instanceof WireObject) || result.objName !== expected) {
      throw new MalformedNovaObject(`${objName}.${objMethod}()`, result instanceof WireObject ? result.toJSON() : result, `must answer a ${expected} or None`);
    }
    return result as WireObject<F>;
  }

  /**
   * A remotable method on `object`: `object.objMethod(*args, **kwargs)` run by the conductor on the copy we
   * send (every set field, with nova_object.changes); the conductor's updates are then applied to `object`
   * and its changes reset. Resolves with the method's result, decoded.
   */
  async objectAction(
    object: WireObject,
    objMethod: string,
    args: readonly unknown[] = [],
    kwargs: Record<string, unknown> = {},
    context: RequestContext = adminContext(),
  ): Promise<unknown> {
    const where = `${object.objName}.${objMethod}()`;
    const answer = await this.rpc.call(CONDUCTOR_TARGET, context, 'object_action', {
      objinst: object.toPrimitive(),
      objmethod: objMethod,
      args: args.map(serializeEntity),
      kwargs: serializeDict(kwargs),
    });
    if (!Array.isArray(answer) || answer.length !== 2) throw new MalformedNovaObject(where, answer, 'object_action must answer [updates, result]');
    object.applyUpdates(answer[0], `${where} updates`);
    return deserializeEntity(answer[1], `${where} result`);
  }
}

/** NovaObjectSerializer.serialize_entity: objects as primitives, lists, tuples and dicts walked. */
function serializeEntity(value: unknown): unknown {
  if (value instanceof WireObject) return value.toPrimitive();
  if (Array.isArray(value)) return value.map(serializeEntity);
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) return serializeDict(value as Record<string, unknown>);
  if (value instanceof Date) throw new TypeError('a Date must be sent as novaDateTime(date), as the field would serialize it');
  return value;
}

function serializeDict(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, serializeEntity(item)]));
}

/** NovaObjectSerializer.deserialize_entity: primitives become objects, in lists and dicts too. */
function deserializeEntity(value: unknown, path: string): unknown {
  if (isNovaPrimitive(value)) return WireObject.fromPrimitive(value, path);
  if (Array.isArray(value)) return value.map((item, index) => deserializeEntity(item, `${path}[${index}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, deserializeEntity(item, `${path}.${key}`)]));
  }
  return value;
}
