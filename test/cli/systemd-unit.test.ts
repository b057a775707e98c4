import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { schema } from '../../src/config/schema.js';

const repo = new URL('../../', import.meta.url).pathname;
const unit = readFileSync(join(repo, 'systemd/nova-spawnd.service'), 'utf8');

test('systemd accepts the unit (systemd-analyze verify), with ExecStart pointed at this checkout', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-unit-'));
  try {
    const local = unit.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath} ${join(repo, 'dist/src/cli.js')}`);
    writeFileSync(join(dir, 'nova-spawnd.service'), local);
    const result = spawnSync('systemd-analyze', ['verify', join(dir, 'nova-spawnd.service')], { encoding: 'utf8' });
    expect(result.stderr.split('\n').filter((line) => line.includes('nova-spawnd.service'))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the unit runs the daemon with a config file, after libvirtd and the network, and stops gracefully', () => {
  expect(unit).toMatch(/^ExecStart=\S*nova-spawnd run --config-file \/etc\/nova\/nova-spawnd.conf$/m);
  expect(unit).toMatch(/^After=.*network-online\.target.*libvirtd\.service/m);
  expect(unit).toMatch(/^Restart=on-failure$/m);
  expect(unit).toMatch(/^RestartPreventExitStatus=78$/m);
  expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
  // systemd kills only after the daemon's own grace for builds in flight, and 30 s to close its connections.
  expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1])).toBe(Number(schema.DEFAULT.graceful_shutdown_timeout.default) + 30);
  expect(unit).toMatch(/^StateDirectory=nova-spawnd$/m);
});

test('the unit is Type=notify with a watchdog, and writes only under Nova state_path and its own directories', () => {
  expect(unit).toMatch(/^Type=notify$/m);
  // Only the daemon itself may say READY=1: not a qemu-img or virsh it runs.
  expect(unit).toMatch(/^NotifyAccess=main$/m);
  expect(Number(/^WatchdogSec=(\d+)$/m.exec(unit)?.[1])).toBeGreaterThan(0);
  expect(unit).toMatch(/^ProtectSystem=strict$/m);
  // instances_path (where every file of a guest goes) defaults to $state_path/instances: one writable tree.
  expect(schema.DEFAULT.instances_path.default).toBe('$state_path/instances');
  expect(unit.match(/^ReadWritePaths=(.*)$/gm)).toEqual([`ReadWritePaths=${schema.DEFAULT.state_path.default}`]);
});

test('the tmpfiles.d file makes state_path and instances_path for the nova user the sysusers.d file makes', () => {
  const tmpfiles = readFileSync(join(repo, 'systemd/nova-spawnd.tmpfiles'), 'utf8');
  const sysusers = readFileSync(join(repo, 'systemd/nova-spawnd.sysusers'), 'utf8');
  const state = String(schema.DEFAULT.state_path.default);
  expect(tmpfiles).toMatch(new RegExp(`^d ${state} 0755 nova nova -$`, 'm'));
  expect(tmpfiles).toMatch(new RegExp(`^d ${state}/instances 0755 nova nova -$`, 'm'));
  expect(sysusers).toMatch(/^u nova - "[^"]+" \/var\/lib\/nova$/m);
  expect(unit).toMatch(/^User=nova$/m);
});
