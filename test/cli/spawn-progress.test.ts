/**
 * `nova-spawnd spawn` downloading its image from a stand-in Glance: a progress bar on a terminal (a real
 * pseudo-terminal, util-linux's script), none when stderr is a pipe; the log says size and rate either way.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { MINIMAL_PLAIN } from '../nova/plain-requests.js';
import { FakeGlance } from '../virt/imagecache/fake-glance.js';
import { cli } from './run-cli.js';

let dir: string;
let glance: FakeGlance;
let image: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-spawn-progress-'));
  chmodSync(dir, 0o755);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'image.qcow2'), '1M']);
  image = readFileSync(join(dir, 'image.qcow2'));
  glance = await FakeGlance.start();
});
afterAll(async () => {
  await glance?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A spawn of a new instance booting a new image that only Glance has, in an instances_path of its own. */
function spawnFiles(): { config: string; request: string } {
  const imageId = randomUUID();
  glance.set(imageId, { kind: 'serve', bytes: image });
  const state = mkdtempSync(join(dir, 'state-'));
  chmodSync(state, 0o755);
  const config = join(state, 'nova.conf');
  writeFileSync(config, `[DEFAULT]\nstate_path = ${state}\n[libvirt]\nvirt_type = qemu\nconnection_uri = test:///default\n[glance]\napi_servers = ${glance.url}\n`);
  const request = join(state, 'request.json');
  const plain = { ...MINIMAL_PLAIN, uuid: randomUUID(), image_ref: imageId, image: { id: imageId, disk_format: 'qcow2', container_format: 'bare', size: image.length } };
  writeFileSync(request, JSON.stringify(plain));
  return { config, request };
}

/** Runs `command` to its end (asynchronously: the stand-in Glance answers from this process). */
async function run(command: string, args: string[]): Promise<{ status: number | null; output: string }> {
  const child = spawn(command, args, { env: { ...process.env, NODE_OPTIONS: '', TERM: 'xterm' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [status] = (await once(child, 'exit')) as [number | null];
  return { status, output };
}

test('on a terminal: the bar, redrawn in place, ends at 100% of the image on a line of its own', async () => {
  const { config, request } = spawnFiles();
  const shell = [process.execPath, cli, 'spawn', '--config-file', config, '--request', request].map((word) => `'${word}'`).join(' ');
  const { status, output } = await run('script', ['-qec', shell, '/dev/null']);
  expect(status).toBe(0);
  expect(output).toMatch(/\rimage [0-9a-f]{8} \[-{30}\]   0% 0 B of 192\.0 KiB, 0 B\/s\x1b\[K/);
  expect(output).toMatch(/\rimage [0-9a-f]{8} \[#{30}\] 100% 192\.0 KiB of 192\.0 KiB, \S+ \S*B\/s\x1b\[K\r?\n/);
  expect(output).toMatch(/image downloaded: 192\.0 KiB in \d+\.\d s/);
  expect(output).toContain('"outcome":"spawned"');
}, 30_000);

test('not on a terminal: no bar, the log alone', async () => {
  const { config, request } = spawnFiles();
  const { status, output } = await run(process.execPath, [cli, 'spawn', '--config-file', config, '--request', request]);
  expect(status).toBe(0);
  expect(output).not.toContain('\r');
  expect(output).not.toContain('[#');
  expect(output).toMatch(/downloading image: 192\.0 KiB/);
  expect(output).toMatch(/image downloaded: 192\.0 KiB in \d+\.\d s/);
}, 30_000);
