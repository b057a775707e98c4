/**
 * The sd_notify protocol against a notify socket the test owns (a unix datagram socket, as systemd's
 * /run/systemd/notify): what a Type=notify service manager would receive. The real systemd test is
 * test/systemd/unit.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket, type UnixDgramSocket } from 'unix-dgram';
import { getLogger } from '../../src/log.js';
import { notifyMessage, readNotifyEnvironment, SystemdNotifier } from '../../src/systemd/notify.js';

describe('readNotifyEnvironment', () => {
  it('pings at half of WATCHDOG_USEC, as sd_watchdog_enabled advises', () => {
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' }, 42)).toEqual({ socket: '/run/systemd/notify', watchdogPingMs: 15_000, problem: null });
  });

  it('leaves the watchdog to the process WATCHDOG_PID names', () => {
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '7' }, 42).watchdogPingMs).toBeNull();
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '42' }, 42).watchdogPingMs).toBe(500);
  });

  it('names a WATCHDOG_USEC that is not a number of microseconds', () => {
    expect(readNotifyEnvironment({ WATCHDOG_USEC: '30s' }, 42).problem).toBe('WATCHDOG_USEC=30s is not a positive number of microseconds: no watchdog pings');
  });

  it('is off without NOTIFY_SOCKET', () => {
    expect(readNotifyEnvironment({}, 42)).toEqual({ socket: null, watchdogPingMs: null, problem: null });
  });
});

describe('notifyMessage', () => {
  it('writes one NAME=value line per field, a STATUS on one line', () => {
    expect(notifyMessage({ READY: '1', STATUS: 'a\nb' }).toString()).toBe('READY=1\nSTATUS=a b');
  });
});

describe('SystemdNotifier', () => {
  let dir: string;
  let socketPath: string;
  let receiver: UnixDgramSocket;
  let received: string[];
  let logged: string[];
  const log = getLogger('test');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'notify-'));
    socketPath = join(dir, 'notify');
    received = [];
    logged = [];
    receiver = createSocket('unix_dgram', (message) => received.push(message.toString()));
    receiver.bind(socketPath);
  });

  afterEach(() => {
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  const recordingLog = { ...log, warning: (message: string) => void logged.push(message) };

  it('takes the variables out of the environment, so commands it runs do not inherit them', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '60000000', WATCHDOG_PID: String(process.pid), PATH: '/bin' };
    const notifier = SystemdNotifier.fromEnvironment(env, log);
    notifier.close();
    expect(env).toEqual({ PATH: '/bin' });
  });

  it('pings WATCHDOG=1 from the event loop at once and then every half WATCHDOG_USEC', async () => {
    const notifier = new SystemdNotifier({ socket: socketPath, watchdogPingMs: 20, problem: null }, log);
    await until(() => received.length >= 3);
    notifier.close();
    expect(new Set(received)).toEqual(new Set(['WATCHDOG=1']));
  });

  it('says READY=1 with a status, a STATUS only when it changes, and STOPPING=1', async () => {
    const notifier = new SystemdNotifier({ socket: socketPath, watchdogPingMs: null, problem: null }, log);
    notifier.ready('consuming; 0 builds in flight');
    notifier.status('consuming; 0 builds in flight');
    notifier.status('consuming; 1 build in flight');
    notifier.stopping('received SIGTERM');
    await until(() => received.length === 3);
    notifier.close();
    expect(received).toEqual(['READY=1\nSTATUS=consuming; 0 builds in flight', 'STATUS=consuming; 1 build in flight', 'STOPPING=1\nSTATUS=received SIGTERM']);
  });

  it('sends the status that describe() gives, when it changes', async () => {
    const notifier = new SystemdNotifier({ socket: socketPath, watchdogPingMs: null, problem: null }, log);
    let busy = 0;
    notifier.watchStatus(() => `${busy} in flight`, 5);
    await until(() => received.length === 1);
    busy = 2;
    await until(() => received.length === 2);
    notifier.close();
    expect(received).toEqual(['STATUS=0 in flight', 'STATUS=2 in flight']);
  });

  it('wraps a reload in RELOADING=1 (with CLOCK_MONOTONIC) and READY=1, once ready', async () => {
    const notifier = new SystemdNotifier({ socket: socketPath, watchdogPingMs: null, problem: null }, log);
    let reloaded = 0;
    notifier.reloading(() => void reloaded++);
    notifier.ready('up');
    notifier.reloading(() => void reloaded++);
    await until(() => received.length === 4);
    notifier.close();
    expect(reloaded).toBe(2);
    expect(received[0]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=[0-9]+\nSTATUS=reloading the configuration$/);
    // Not READY=1 after the first: the daemon was not ready yet.
    expect(received.slice(1)).toEqual(['READY=1\nSTATUS=up', expect.stringMatching(/^RELOADING=1\n/), 'READY=1\nSTATUS=up']);
  });

  it('keeps running and warns once when the socket is gone', () => {
    const notifier = new SystemdNotifier({ socket: join(dir, 'gone'), watchdogPingMs: null, problem: null }, recordingLog);
    notifier.status('a');
    notifier.status('b');
    notifier.close();
    expect(logged).toEqual([`systemd notification not sent: unix datagram to ${join(dir, 'gone')}: ENOENT`]);
  });

  it('warns that an abstract socket cannot be used, and does nothing', () => {
    const notifier = new SystemdNotifier({ socket: '@/org/example/notify', watchdogPingMs: 10, problem: null }, recordingLog);
    expect(notifier.enabled).toBe(false);
    notifier.ready('up');
    notifier.close();
    expect(logged).toEqual([expect.stringContaining('NOTIFY_SOCKET=@/org/example/notify not used')]);
  });

  it('does nothing without NOTIFY_SOCKET', () => {
    const notifier = new SystemdNotifier({ socket: null, watchdogPingMs: null, problem: null }, recordingLog);
    notifier.ready('up');
    notifier.stopping('down');
    notifier.close();
    expect(notifier.enabled).toBe(false);
    expect(logged).toEqual([]);
  });
});
