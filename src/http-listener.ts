/** The daemon's HTTP listeners (the metadata API, metrics and health): bound, logged and closed one way. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';

export interface HttpListener {
  /** The bound address and port (port 0 binds an ephemeral one). */
  address: string;
  port: number;
  /** Stops listening and closes every connection, idle keep-alive ones included. */
  close(): Promise<void>;
}

/**
 * Binds `server`; rejects when the address cannot be bound (in use, not an address of this host). After
 * that, a failing socket is its client's problem, never the daemon's: logged as `what`'s error.
 */
export async function listen(server: Server, port: number, host: string, log: Logger, what: string): Promise<HttpListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error(`${what} server error: ${error.message}`));
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    address,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
