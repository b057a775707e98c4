/** The part of unix-dgram (a CommonJS module without types) that src/systemd/datagram.ts uses. */
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  export interface UnixDgramSocket extends EventEmitter {
    bind(path: string): void;
    /** Synchronous: the callback runs before send returns, with an Error whose code is the negative errno. */
    send(buf: Buffer, offset: number, length: number, path: string, callback?: (error?: Error & { code?: number }) => void): void;
    close(): void;
  }

  export function createSocket(type: 'unix_dgram', listener?: (message: Buffer) => void): UnixDgramSocket;
}
