/** The broker connection (or the channel a message came on) went away before an operation could finish. */
export class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
  constructor(
    /** What could not be done: "publish to nova-spawnd.dead", ... */
    readonly operation: string,
    reason: string,
  ) {
    super(`${operation}: ${reason}`);
  }
}
