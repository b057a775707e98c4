import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket, type UnixDgramSocket } from 'unix-dgram';
import { DatagramError, DatagramSocket } from '../../src/systemd/datagram.js';

describe('DatagramSocket', () => {
  let dir: string;
  let receiver: UnixDgramSocket;
  let received: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'datagram-'));
    received = [];
    receiver = createSocket('unix_dgram', (message) => received.push(message.toString()));
    receiver.bind(join(dir, 'receiver'));
  });

  afterEach(() => {
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('sends each payload as one datagram to the bound path', async () => {
    const socket = new DatagramSocket(join(dir, 'receiver'));
    socket.send(Buffer.from('READY=1\nSTATUS=up'));
    socket.send(Buffer.from('WATCHDOG=1'));
    await until(() => received.length === 2);
    socket.close();
    expect(received).toEqual(['READY=1\nSTATUS=up', 'WATCHDOG=1']);
  });

  it('names the address and the errno when nothing listens there, and that a retry will not help', () => {
    const socket = new DatagramSocket(join(dir, 'nobody'));
    try {
      expect(() => socket.send(Buffer.from('READY=1'))).toThrow(new DatagramError(join(dir, 'nobody'), 'ENOENT', false));
    } finally {
      socket.close();
    }
  });

  it('says a full receive queue (EAGAIN) is transient', () => {
    const socket = new DatagramSocket(join(dir, 'receiver'));
    // The receiver reads only when the event loop turns: synchronous sends fill its queue (net.unix.max_dgram_qlen).
    let failure: unknown = null;
    for (let i = 0; i < 10_000 && failure === null; i += 1) {
      try {
        socket.send(Buffer.from(`line ${i}`));
      } catch (error) {
        failure = error;
      }
    }
    socket.close();
    expect(failure).toBeInstanceOf(DatagramError);
    expect(failure).toMatchObject({ errno: 'EAGAIN', transient: true });
  });

  it('refuses an abstract address, naming it', () => {
    expect(() => new DatagramSocket('@/org/freedesktop/systemd1/notify')).toThrow(/@\/org\/freedesktop\/systemd1\/notify/);
  });

  it('refuses to send once closed', () => {
    const socket = new DatagramSocket(join(dir, 'receiver'));
    socket.close();
    socket.close();
    expect(() => socket.send(Buffer.from('x'))).toThrow(/socket closed/);
  });
});
