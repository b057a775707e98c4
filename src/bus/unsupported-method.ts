/** An oslo RPC message for a method (or namespace) of nova-compute's API that this daemon does not serve. */
export class UnsupportedMethod extends Error {
  override readonly name = 'UnsupportedMethod';
  constructor(
    readonly method: string,
    readonly namespace: string | null,
  ) {
    super(
      `unsupported method: nova-spawnd serves build_and_run_instance, the lifecycle methods (terminate, stop, start, reboot, console output, external events) and ping of the compute API (got method ${JSON.stringify(method)}${
        namespace === null ? '' : ` in namespace ${JSON.stringify(namespace)}`
      })`,
    );
  }
}
