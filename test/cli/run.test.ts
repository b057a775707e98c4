import { spawn } from 'node:child_process';
import { once } from 'node:events';

const repo = new URL('../../', import.meta.url).pathname;
const cli = `${repo}dist/src/cli.js`;

test('run on the embedded default config logs its configuration (secrets masked), consumes, serves metadata, and stops cleanly on SIGTERM', async () => {
  const daemon = spawn(process.execPath, [cli, 'run', '--config-file', `${repo}etc/nova-spawnd.embedded.conf`], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  let listing: Promise<string> | null = null;
  daemon.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!listing && stderr.includes('INFO nova_spawnd.bus [-] consuming compute') && stderr.includes('metadata API listening')) {
      // The embedded config serves the metadata API on 127.0.0.1:8775: its root lists the EC2 versions.
      listing = fetch('http://127.0.0.1:8775/')
        .then((response) => response.text())
        .finally(() => daemon.kill('SIGTERM'));
    }
  });
  const [code] = (await once(daemon, 'exit')) as [number | null];
  expect(code).toBe(0);
  expect(await listing).toContain('2009-04-04');
  expect(stderr).toMatch(/INFO nova_spawnd \[-\] nova-spawnd \d+\.\d+\.\d+ starting/);
  expect(stderr).toContain('DEBUG nova_spawnd [-] libvirt.connection_uri = test:///default');
  expect(stderr).toContain('transport_url = rabbit://guest:****@127.0.0.1:5672/');
  expect(stderr).toContain('received SIGTERM: no new builds');
  expect(stderr).toContain('INFO nova_spawnd [-] stopped');
});
