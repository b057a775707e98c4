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
