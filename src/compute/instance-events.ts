/**
 * Events a driver waits for, delivered by external_instance_event (Nova's InstanceEvents and
 * ComputeVirtAPI.wait_for_instance_event): a waiter is registered for every event before the action that
 * makes Neutron send it (plugging the VIFs), so an event that arrives while the guest starts is not lost.
 * An event nobody waits for is only logged, as Nova's pop_instance_event does.
 */

/** InstanceExternalEvent's status: Neutron says `completed`, or `failed` for a port that went to ERROR. */
export type EventStatus = 'completed' | 'failed' | 'in-progress';

/** The key Nova gives an event: name-tag (network-vif-plugged-<port id>). */
export function eventKey(name: string, tag: string | null): string {
  return tag === null ? name : `${name}-${tag}`;
}

export interface EventsReceived {
  /** Every key that arrived, with its status. */
  received: Map<string, EventStatus>;
  /** Keys still missing when the wait ended (timed out, or cleared by a delete). */
  missing: string[];
  /** The wait ended because the instance's events were cleared (a delete), not by a timeout. */
  cleared: boolean;
}

export interface EventWaiter {
  /** Resolves when every event has arrived, the deadline passed, or the instance's events were cleared. */
  wait(timeoutMs: number): Promise<EventsReceived>;
  /** Stops waiting (after a failure elsewhere): the keys are unregistered. */
  cancel(): void;
}

interface Pending {
  keys: Set<string>;
  received: Map<string, EventStatus>;
  /** Called when the last key arrives or the wait is cleared. */
  settle: (cleared: boolean) => void;
}

export class InstanceEvents {
  /** Per instance uuid, the waits registered on it. */
  private readonly waits = new Map<string, Set<Pending>>();

  /** prepare_for_instance_event for each key: from now on, these events are kept for the waiter. */
  prepare(uuid: string, keys: readonly string[]): EventWaiter {
    let resolveSettled: (cleared: boolean) => void = () => undefined;
    const settled = new Promise<boolean>((resolve) => (resolveSettled = resolve));
    const pending: Pending = { keys: new Set(keys), received: new Map(), settle: (cleared) => resolveSettled(cleared) };
    const forInstance = this.waits.get(uuid) ?? new Set<Pending>();
    forInstance.add(pending);
    this.waits.set(uuid, forInstance);
    const unregister = () => {
      forInstance.delete(pending);
      if (forInstance.size === 0 && this.waits.get(uuid) === forInstance) this.waits.delete(uuid);
    };
    if (pending.keys.size === 0) pending.settle(false);
    return {
      wait: async (timeoutMs) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
        try {
          const cleared = await Promise.race([settled, timedOut]);
          return { received: new Map(pending.received), missing: [...pending.keys].filter((key) => !pending.received.has(key)), cleared };
        } finally {
          clearTimeout(timer);
          unregister();
        }
      },
      cancel: () => {
        unregister();
        pending.settle(true);
      },
    };
  }

  /** pop_instance_event: true when a waiter took the event. */
  pop(uuid: string, key: string, status: EventStatus): boolean {
    let taken = false;
    for (const pending of this.waits.get(uuid) ?? []) {
      if (!pending.keys.has(key) || pending.received.has(key)) continue;
      pending.received.set(key, status);
      taken = true;
      if (pending.received.size === pending.keys.size) pending.settle(false);
    }
    return taken;
  }

  /** clear_events_for_instance (a delete): every wait on the instance ends now, as cleared. */
  clear(uuid: string): void {
    for (const pending of this.waits.get(uuid) ?? []) pending.settle(true);
    this.waits.delete(uuid);
  }
}
