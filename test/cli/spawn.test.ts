import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { decodeSpawnMessage } from '../../src/bus/spawn-message.js';
import { getLogger } from '../../src/log.js';
import { openMetadataRegistry } from '../../src/metadata-api/registry.js';
import { seedImage } from '../compute/seed-image.js';
import { CACHED_IMAGE_ID } from '../bus/helpers/compute.js';
import { castBody, newInstance, novaCastTemplate } from '../bus/helpers/messages.js';
import { createVhost, eventually } from '../bus/helpers/rabbit.js';
import { proxyHeaders, SECRET } from '../metadata-api/fixtures.js';
import { documentedExample } from '../nova/plain-requests.js';
import { novaWireBody } from '../nova/wire-bodies.js';
import { cli, runCli } from './run-cli.js';

let dir: string;
let config: string;
beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-spawn-cli-'));
  chmodSync(dir, 0o755);
  config = join(dir, 'nova.conf');
  writeFileSync(config, `[DEFAULT]\nstate_path = ${dir}\n[libvirt]\nvirt_type = qemu\nconnection_uri = test:///default\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The cast with its SR-IOV VIF (hw_veb) taken out of the instance's info cache: this driver plugs bridge and
 * OVS VIFs only, and refuses the rest (as Nova's libvirt driver would without the PCI device).
 */
function withPluggableVifs(body: Buffer): Buffer {
  const envelope = JSON.parse(body.toString('utf8')) as { 'oslo.message': string };
  const message = JSON.parse(envelope['oslo.message']) as { args: { instance: { 'nova_object.data': { info_cache: { 'nova_object.data': { network_info: string } } } } } };
  const cache = message.args.instance['nova_object.data'].info_cache['nova_object.data'];
  cache.network_info = JSON.stringify((JSON.parse(cache.network_info) as { type: string }[]).filter((vif) => vif.type !== 'hw_veb'));
  return Buffer.from(JSON.stringify({ ...envelope, 'oslo.message': JSON.stringify(message) }));
}

test('spawn --message runs the pipeline once on a real cast and prints what it did', async () => {
  const body = withPluggableVifs((await novaWireBody('full', '6.0')).body);
  const message = join(dir, 'cast.json');
  writeFileSync(message, body);
  const { request } = decodeSpawnMessage(body);
  const instances = join(dir, 'instances');
  seedImage(instances, request.image.id ?? request.instance.image_ref!);
  // This instance boots a kernel directly: kernel and ramdisk are images too.
  const blob = join(dir, 'blob');
  writeFileSync(blob, Buffer.alloc(4096, 1));
  for (const id of [request.instance.kernel_id, request.instance.ramdisk_id]) if (id) seedImage(instances, id, blob);
  const result = runCli(['spawn', '--config-file', config, '--message', message]);
  expect(result.stderr).toMatch(/INFO nova_spawnd.compute \[\S+ req-\S+ [^\]]*\] \[instance: 6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10\] domain started/);
  expect(result.status).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ uuid: '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10', outcome: 'spawned', drive: 'created' });
  // Its metadata record too, readable by the owner alone: a daemon started afterwards serves the instance.
  const record = join(instances, request.instance.uuid, 'metadata.json');
  expect(statSync(record).mode & 0o777).toBe(0o600);
  const registry = await openMetadataRegistry(instances, getLogger('test'));
  expect(registry.byInstanceId(request.instance.uuid)?.project_id).toBe(request.instance.project_id);
});

test('spawn --dry-run prints the domain XML and the drive, and creates nothing', () => {
  const request = join(dir, 'request.json');
  writeFileSync(request, JSON.stringify(documentedExample()));
  const result = runCli(['spawn', '--config-file', config, '--request', request, '--dry-run']);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/<domain type="qemu">[\s\S]*<uuid>3f8c2f4e-5b7a-4c1d-9e2f-0a1b2c3d4e5f<\/uuid>/);
  expect(result.stdout).toMatch(/# config drive\n/);
  expect(result.stdout).toMatch(/\n\s+\d+ \/ec2\/2009-04-04\/meta-data\.json\n/);
  expect(result.stdout).toMatch(/\n\s+\d+ \/openstack\/latest\/meta_data\.json\n/);
  expect(existsSync(join(dir, 'instances', '3f8c2f4e-5b7a-4c1d-9e2f-0a1b2c3d4e5f'))).toBe(false);
});

test('an image that cannot be had ends the spawn with 65 and the image named', () => {
  const request = join(dir, 'request.json');
  writeFileSync(request, JSON.stringify(documentedExample()));
  const result = runCli(['spawn', '--config-file', config, '--request', request]);
  expect(result.status).toBe(65);
  expect(result.stderr).toMatch(/spawn of instance 3f8c2f4e-5b7a-4c1d-9e2f-0a1b2c3d4e5f failed at image: ImageNotFound/);
});

test('a daemon running beside `spawn` serves the instance the command spawned, once it has recorded it', async () => {
  const vhost = await createVhost('spawn-beside');
  writeFileSync(
    config,
    `[DEFAULT]\nstate_path = ${dir}\nhost = spawn-beside\ntransport_url = ${vhost.url}\nmetadata_listen = 127.0.0.1\nmetadata_listen_port = 0\n` +
      `[libvirt]\nvirt_type = qemu\nconnection_uri = test:///default\n[neutron]\nservice_metadata_proxy = true\nmetadata_proxy_shared_secret = ${SECRET}\n`,
  );
  const daemon = spawn(process.execPath, [cli, 'run', '--config-file', config], { env: { ...process.env, NODE_OPTIONS: '' } });
  let stderr = '';
  daemon.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  try {
    const port = await eventually('the metadata API', () => /metadata API listening address=\S+ port=(\d+)/.exec(stderr)?.[1]);
    const template = await novaCastTemplate('6.0');
    const instance = newInstance();
    const body = castBody(template, instance, (_inner, data) => void (data['config_drive'] = 'True'));
    const project = (JSON.parse(JSON.parse(body.toString())['oslo.message']).args.instance['nova_object.data'] as { project_id: string }).project_id;
    const ask = () => fetch(`http://127.0.0.1:${port}/openstack/latest/meta_data.json`, { headers: proxyHeaders(instance.uuid, project) });
    expect((await ask()).status).toBe(404);

    seedImage(join(dir, 'instances'), CACHED_IMAGE_ID);
    const message = join(dir, 'cast.json');
    writeFileSync(message, body);
    expect(runCli(['spawn', '--config-file', config, '--message', message]).status).toBe(0);
    const served = await eventually('the instance served', async () => {
      const response = await ask();
      return response.status === 200 ? ((await response.json()) as { uuid: string }) : undefined;
    });
    expect(served.uuid).toBe(instance.uuid);
  } finally {
    daemon.kill('SIGTERM');
    await once(daemon, 'exit');
    await vhost.remove();
  }
  expect(stderr).toMatch(/\[instance: \S*\] Failed to get metadata for instance id/);
});
