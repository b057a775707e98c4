/**
 * The broker took the message and would not keep it: it nacked it (a queue at its x-max-length with
 * x-overflow reject-publish) or returned it (published mandatory, no queue bound to take it). The connection
 * is fine; a later try can succeed once there is room or a queue.
 */
export class PublishRefused extends Error {
  override readonly name = 'PublishRefused';
  constructor(
    /** What was refused: "publish to nova-spawnd.dead (compute.host1)", ... */
    readonly operation: string,
    readonly why: 'nacked' | 'unroutable',
  ) {
    super(`${operation}: ${why === 'nacked' ? 'refused by the broker (a queue it goes to is full)' : 'returned by the broker: no queue is bound to take it'}`);
  }
}
