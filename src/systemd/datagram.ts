/**
 * A unix datagram socket that sends to one address, the transport of both of systemd's native protocols:
 * sd_notify (to $NOTIFY_SOCKET) and journald's (to /run/systemd/journal/socket). Each send is one sendto(2),
 * so a receiver that restarts (journald does) is reached again at its path without reconnecting.
 */
import { constants } from 'node:os';
import { createSocket, type UnixDgramSocket } from 'unix-dgram';

/** A send that did not go out. `transient`: the receiver's queue was full (EAGAIN), so a later send may pass. */
export class DatagramError extends Error {
  constructor(
    readonly address: string,
    readonly errno: string,
    readonly transient: boolean,
  ) {
    super(`unix datagram to ${address}: ${errno}`);
    this.name = 'DatagramError';
  }
}

// The first name of each number: EAGAIN rather than its alias EWOULDBLOCK.
const ERRNO_NAMES = new Map(Object.entries(constants.errno).reverse().map(([name, number]) => [number, name]));

function errnoName(code: number | undefined): string {
  return code === undefined ? 'unknown error' : (ERRNO_NAMES.get(-code) ?? `errno ${-code}`);
}

export class DatagramSocket {
  private socket: UnixDgramSocket | null;

  /**
   * `address`: a file system path. An abstract address (`@name`, as systemd writes it) is refused with the
   * address named: unix-dgram copies the address with strncpy and sends the whole sockaddr_un, so it cannot
   * name one.
   */
  constructor(readonly address: string) {
    if (!address.startsWith('/')) throw new DatagramError(address, 'not an absolute path (abstract @ sockets are not supported)', false);
    this.socket = createSocket('unix_dgram');
    // Errors reach send's callback; this keeps an unexpected 'error' event from throwing.
    this.socket.on('error', () => undefined);
  }

  /** Sends one datagram; throws DatagramError if it did not go out. */
  send(payload: Buffer): void {
    if (!this.socket) throw new DatagramError(this.address, 'socket closed', false);
    let failure: DatagramError | null = null;
    this.socket.send(payload, 0, payload.length, this.address, (error) => {
      if (!error) return;
      const name = errnoName(error.code);
      failure = new DatagramError(this.address, name, name === 'EAGAIN' || name === 'ENOBUFS');
    });
    if (failure) throw failure;
  }

  /** Closes the socket, whose poll handle otherwise keeps Node's event loop alive. Idempotent. */
  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}
