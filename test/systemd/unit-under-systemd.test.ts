/**
 * systemd/nova-spawnd.service under a real systemd (PID 1 of a container, test/systemd/container.ts): the
 * daemon installed from this checkout (or the package, NOVA_SPAWND_TEST_INSTALLED=1) with its sysusers.d and
 * tmpfiles.d files, started by its unit on the embedded-like configuration (libvirt test:///default, the
 * host's RabbitMQ). Proves Type=notify (activating until the broker is reachable, then active with a STATUS),
 * the watchdog (a stopped daemon is killed and restarted), RELOADING=1 on SIGHUP, and the journal.
 */
import net from 'node:net';
import { closedPort } from '../helpers/closed-port.js';
import { createVhost, eventually, SHARED_BROKER, type TestVhost } from '../bus/helpers/rabbit.js';
import { containerDaemonConfig, installDaemon, installationUnderTest, systemdRoot, SystemdContainer } from './container.js';

const UNIT = 'nova-spawnd.service';
const PROPERTIES = ['ActiveState', 'SubState', 'StatusText', 'NRestarts', 'MainPID', 'Result', 'StateChangeTimestampMonotonic'];

/** A TCP relay to the shared broker that the test opens when it wants the broker to become reachable. */
class BrokerRelay {
  private readonly server = net.createServer((client) => {
    const broker = net.connect(SHARED_BROKER.port, SHARED_BROKER.hostname);
    client.pipe(broker).pipe(client);
    const close = () => {
      client.destroy();
      broker.destroy();
    };
    client.on('error', close).on('close', close);
    broker.on('error', close).on('close', close);
  });

  constructor(readonly port: number) {}

  async open(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('the unit under a real systemd', () => {
  let container: SystemdContainer;
  let vhost: TestVhost;
  let relay: BrokerRelay;
  const host = `systemd-test-${process.pid}`;
  const show = () => container.show(UNIT, PROPERTIES);
  /** What systemd (PID 1) logged about the unit. */
  const systemdSaid = async () => (await container.journal(UNIT)).filter((entry) => entry._PID === '1').map((entry) => entry.MESSAGE);

  beforeAll(async () => {
    const root = await systemdRoot();
    vhost = await createVhost('systemd');
    relay = new BrokerRelay(await closedPort());
    const installation = installationUnderTest();
    container = await SystemdContainer.boot(root, `nova-spawnd-test-${process.pid}`, [['/usr/bin/node', '/usr/bin/node'], ...installation.binds]);
    // Through the relay, which is closed until the test opens it: the broker is "away" at first.
    const config = await containerDaemonConfig(host, vhost.url.replace(`:${SHARED_BROKER.port}/`, `:${relay.port}/`));
    // Shorter than the unit's, so that a stopped daemon is restarted within seconds.
    const dropIn = ['[Service]', 'WatchdogSec=5', 'TimeoutAbortSec=2', 'RestartSec=1', ''].join('\n');
    await installDaemon(container, installation, config, dropIn);
    // systemd then logs every notification it gets ("Got notification message from PID ...").
    await container.run(['systemd-analyze', 'set-log-level', 'debug']);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
    await relay?.close();
    await vhost?.remove();
  });

  it('is activating, saying so in its STATUS, until the broker is reachable, then active', async () => {
    await container.run(['systemctl', 'start', '--no-block', UNIT]);
    const waiting = await eventually('the daemon to say it is waiting for the broker', async () => {
      const state = await show();
      return /reconnecting/.test(state['StatusText']!) ? state : undefined;
    });
    expect(waiting).toMatchObject({ ActiveState: 'activating', SubState: 'start', StatusText: 'not connected to the rpc broker, reconnecting; 0 builds in flight' });

    await relay.open();
    const ready = await eventually('the unit to be active', async () => {
      const state = await show();
      return state['ActiveState'] === 'active' ? state : undefined;
    });
    expect(ready).toMatchObject({ SubState: 'running', StatusText: 'connected to the broker, consuming; 0 builds in flight', NRestarts: '0' });
  });

  it('goes through reloading on SIGHUP (RELOADING=1, then READY=1), and systemctl reload works', async () => {
    const before = await show();
    // SIGHUP straight to the daemon, not through ExecReload: only its RELOADING=1 can move the unit's state.
    await container.run(['systemctl', 'kill', '--kill-whom=main', '--signal=SIGHUP', UNIT]);
    const after = await eventually('the unit to have been reloading and be active again', async () => {
      const state = await show();
      return Number(state['StateChangeTimestampMonotonic']) > Number(before['StateChangeTimestampMonotonic']) && state['ActiveState'] === 'active' ? state : undefined;
    });
    expect(after).toMatchObject({ SubState: 'running', MainPID: before['MainPID'], StatusText: before['StatusText'] });
    expect(await systemdSaid()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^nova-spawnd\\.service: Got notification message from PID ${before['MainPID']} \\(RELOADING=1, MONOTONIC_USEC=\\d+, STATUS=reloading the configuration\\)$`)),
        'nova-spawnd.service: Changed running -> reload',
        'nova-spawnd.service: Changed reload -> running',
      ]),
    );

    await container.run(['systemctl', 'reload', UNIT]);
    expect(await show()).toMatchObject({ ActiveState: 'active', SubState: 'running', MainPID: before['MainPID'] });
    const sighups = (await container.journal(UNIT)).filter((entry) => entry._PID === before['MainPID'] && /SIGHUP/.test(entry.MESSAGE));
    expect(sighups).toHaveLength(2);
  });

  it('kills a daemon whose event loop stops (SIGSTOP) when the watchdog expires, and restarts it', async () => {
    const before = await show();
    expect(before['NRestarts']).toBe('0');
    await container.run(['kill', '-STOP', before['MainPID']!]);
    const restarted = await eventually('the watchdog to restart the daemon', async () => {
      const state = await show();
      return state['NRestarts'] === '1' && state['ActiveState'] === 'active' ? state : undefined;
    });
    expect(restarted['MainPID']).not.toBe(before['MainPID']);
    expect(restarted).toMatchObject({ SubState: 'running', StatusText: 'connected to the broker, consuming; 0 builds in flight' });
    expect(await systemdSaid()).toContainEqual(expect.stringMatching(/Watchdog timeout/));
  });

  it("puts the daemon's lines in the journal, under its unit", async () => {
    const { MainPID } = await show();
    const lines = (await container.journal(UNIT)).filter((entry) => entry._PID === MainPID);
    expect(lines).toContainEqual(expect.objectContaining({ _SYSTEMD_UNIT: UNIT, MESSAGE: expect.stringMatching(/nova-spawnd \S+ starting/) }));
    expect(lines).toContainEqual(expect.objectContaining({ _SYSTEMD_UNIT: UNIT, MESSAGE: expect.stringMatching(new RegExp(`consuming compute, compute\\.${host}`)) }));
  });

  it('stops on systemctl stop, saying STOPPING=1, and ends cleanly', async () => {
    const { MainPID } = await show();
    await container.run(['systemctl', 'stop', UNIT]);
    expect(await show()).toMatchObject({ ActiveState: 'inactive', SubState: 'dead', Result: 'success' });
    const lines = (await container.journal(UNIT)).filter((entry) => entry._PID === MainPID).map((entry) => entry.MESSAGE);
    expect(lines).toContainEqual(expect.stringMatching(/received SIGTERM/));
    expect(lines).toContainEqual(expect.stringMatching(/stopped$/));
    expect(await systemdSaid()).toContainEqual(`nova-spawnd.service: Got notification message from PID ${MainPID} (STOPPING=1, STATUS=received SIGTERM: finishing the 0 builds in flight)`);
  });
});
