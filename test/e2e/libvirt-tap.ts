/**
 * A transparent proxy between a libvirt client and libvirtd's unix socket, for tests that must stop a client
 * at an exact point of its conversation with libvirtd. The client connects with
 * `qemu+unix:///system?socket=<path>` (libvirt's remote driver, as qemu:///system itself goes) and every
 * packet is passed on unchanged, its procedure recorded, until a trap set with arm() catches a call: the trap
 * springs (the test SIGKILLs the daemon there) before the call is passed on, and the call never reaches
 * libvirtd. What the daemon did before that call is done; the call and anything after it is not.
 *
 * The wire format is libvirt's RPC (src/rpc/virnetprotocol.x): each packet is a 4-byte big-endian length
 * (counting itself), then a header of six 32-bit words: program, version, procedure, type, serial, status.
 * The procedures are remote_protocol.x's REMOTE_PROC_*.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

/** The system libvirtd's read-write socket. */
const LIBVIRTD_SOCKET = '/run/libvirt/libvirt-sock';

/** remote_protocol.x's REMOTE_PROGRAM: the hypervisor API (keepalives are a program of their own). */
const REMOTE_PROGRAM = 0x20008086;
const HEADER_BYTES = 28;
const MESSAGE_TYPE = { call: 0, reply: 1 } as const;

/** remote_protocol.x's REMOTE_PROC_* numbers of the domain calls the tests trap or look for. */
export const PROC = {
  DOMAIN_CREATE: 9,
  DOMAIN_DEFINE_XML: 11,
  DOMAIN_DESTROY: 12,
  DOMAIN_UNDEFINE: 35,
  DOMAIN_CREATE_WITH_FLAGS: 196,
  DOMAIN_UNDEFINE_FLAGS: 231,
  DOMAIN_DESTROY_FLAGS: 234,
  DOMAIN_DEFINE_XML_FLAGS: 350,
} as const;

/** One packet of the hypervisor API: a call from the client or libvirtd's reply to one (status 0: success). */
export interface TappedPacket {
  type: 'call' | 'reply';
  procedure: number;
  serial: number;
  status: number;
}

interface Trap {
  procedures: ReadonlySet<number>;
  spring: (procedure: number) => void;
}

export class LibvirtTap {
  /** Every call and reply seen, in the order seen, across connections. */
  readonly packets: TappedPacket[] = [];
  private trap: Trap | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
  ) {}

  /** Listens on `socketPath` (replaced if it exists) and forwards to libvirtd's system socket. */
  static async listen(socketPath: string, upstreamPath = LIBVIRTD_SOCKET): Promise<LibvirtTap> {
    rmSync(socketPath, { force: true });
    const server = createServer();
    const tap = new LibvirtTap(server, socketPath);
    server.on('connection', (client) => tap.relay(client, upstreamPath));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    return tap;
  }

  /** The connection URI of a client that goes through a tap listening on `socketPath`. */
  static uriOf(socketPath: string): string {
    return `qemu+unix:///system?socket=${socketPath}`;
  }

  /**
   * The next call of one of `procedures` springs the trap: `spring` runs synchronously, before anything of the
   * call reaches libvirtd, and the client's connection is then cut. One catch per arm().
   */
  arm(procedures: readonly number[], spring: (procedure: number) => void): void {
    this.trap = { procedures: new Set(procedures), spring };
  }

  disarm(): void {
    this.trap = null;
  }

  async close(): Promise<void> {
    this.trap = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.socketPath, { force: true });
  }

  private relay(client: Socket, upstreamPath: string): void {
    const upstream = createConnection(upstreamPath);
    this.sockets.add(client).add(upstream);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', cut).on('error', cut);
    upstream.on('close', cut).on('error', cut);
    client.on('data', packets((packet) => {
      if (this.caught(packet)) {
        cut();
        return false;
      }
      upstream.write(packet);
      return true;
    }));
    upstream.on('data', packets((packet) => {
      this.record(packet);
      client.write(packet);
      return true;
    }));
  }

  /** Records a client's packet; true when it springs the trap (it is then not to be passed on). */
  private caught(packet: Buffer): boolean {
    const header = this.record(packet);
    const trap = this.trap;
    if (header === null || header.type !== 'call' || trap === null || !trap.procedures.has(header.procedure)) return false;
    this.trap = null;
    trap.spring(header.procedure);
    return true;
  }

  private record(packet: Buffer): TappedPacket | null {
    if (packet.length < HEADER_BYTES || packet.readUInt32BE(4) !== REMOTE_PROGRAM) return null;
    const type = packet.readInt32BE(16);
    if (type !== MESSAGE_TYPE.call && type !== MESSAGE_TYPE.reply) return null;
    const header: TappedPacket = {
      type: type === MESSAGE_TYPE.call ? 'call' : 'reply',
      procedure: packet.readInt32BE(12),
      serial: packet.readUInt32BE(20),
      status: packet.readInt32BE(24),
    };
    this.packets.push(header);
    return header;
  }
}

/**
 * A 'data' listener that cuts the byte stream into whole packets and hands each to `onPacket`, which answers
 * false to drop the rest of the stream.
 */
function packets(onPacket: (packet: Buffer) => boolean): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let open = true;
  return (chunk) => {
    if (!open) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      // A length too short for its own word is no libvirt packet: pass the rest on as it is.
      const length = Math.max(pending.readUInt32BE(0), 4);
      if (pending.length < length) break;
      const packet = pending.subarray(0, length);
      pending = pending.subarray(length);
      if (!onPacket(packet)) {
        open = false;
        return;
      }
    }
  };
}
