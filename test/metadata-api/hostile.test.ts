/**
 * Requests no guest should send: path traversal, huge headers and bodies, unknown versions, other methods,
 * and a flood of connections that close early. The server must answer each as Nova would (or refuse it),
 * never serve a file of the host nor what only the config drive holds, and keep serving.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OPENSTACK_VERSION_DIRECTORIES } from '../../src/metadata/versions.js';
import { openMetadataRegistry } from '../../src/metadata-api/registry.js';
import type { MetadataServer } from '../../src/metadata-api/server.js';
import { instanceDir } from '../../src/virt/instance-paths.js';
import { RECORD_FILE, saveInstanceMetadata } from '../../src/metadata-api/store.js';
import {
  apiConfig,
  driveOnly,
  ec2Paths,
  injectedNetworkRequest,
  memoryLogger,
  openstackPaths,
  proxyHeaders,
  rawRequest,
  SECRET,
  served,
  v1RecordText,
  withServer,
  type RawResponse,
} from './fixtures.js';

const FLOOD = fileURLToPath(new URL('./connection-flood.mjs', import.meta.url));
const CANARY = 'canary: this file is outside every instance directory';

const instance = served();
const headers = proxyHeaders(instance.request.instance.uuid, instance.request.instance.project_id);
const servedBodies = new Set([
  ...[...instance.metadata.openstack.values()].flatMap((files) => [...files.values()]),
  ...instance.metadata.content.values(),
].map((bytes) => Buffer.from(bytes).toString('latin1')));

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nova-spawnd-metadata-api-'));
  const instances = join(root, 'instances');
  await mkdir(instanceDir(instances, instance.record.uuid), { recursive: true });
  await saveInstanceMetadata(instanceDir(instances, instance.record.uuid), instance.record);
  await writeFile(join(root, 'secret.txt'), CANARY);
  await writeFile(join(instances, 'secret.txt'), CANARY);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function withDiskServer<T>(action: (server: MetadataServer) => Promise<T>): Promise<T> {
  const { log } = memoryLogger();
  const registry = await openMetadataRegistry(join(root, 'instances'), log);
  return withServer({ registry, log }, action);
}

async function stillServing(server: MetadataServer): Promise<void> {
  const response = await rawRequest(server.port, { path: '/openstack/latest/meta_data.json', headers });
  expect(response.status).toBe(200);
  expect(JSON.parse(response.body.toString())).toMatchObject({ uuid: instance.record.uuid });
}

/** Sends raw bytes on one connection and returns everything the server wrote back before it closed. */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

const TRAVERSALS = [
  '/openstack/../../etc/passwd',
  '/openstack/../../../../../../etc/passwd',
  '/openstack/%2e%2e/%2e%2e/etc/passwd',
  '/openstack/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
  '/openstack/latest/..%2f..%2f..%2fetc%2fpasswd',
  '/openstack/%252e%252e/%252e%252e/etc/passwd',
  '/openstack/..%5c..%5cetc%5cpasswd',
  '/openstack/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
  '/openstack/latest/meta_data.json%00/../../../etc/passwd',
  '/openstack/content/../../secret.txt',
  '/openstack/content/..%2f..%2fsecret.txt',
  '/openstack/latest/../../../secret.txt',
  '/../secret.txt',
  '/..',
  '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/latest/meta-data/../../../../etc/passwd',
  '/latest/user-data/..%2f..%2f..%2fetc%2fpasswd',
  '//etc/passwd',
  '/openstack//etc/passwd',
  '/etc/passwd',
  '/proc/self/environ',
  '/openstack/latest/../../../../proc/self/cmdline',
];

describe('hostile requests', () => {
  test('path traversal, raw and encoded: never a host file, only 404 or this instance\'s own documents', async () => {
    const responses: [string, RawResponse][] = await withDiskServer(async (server) => {
      const out: [string, RawResponse][] = [];
      for (const path of TRAVERSALS) out.push([path, await rawRequest(server.port, { path, headers })]);
      await stillServing(server);
      return out;
    });
    for (const [path, response] of responses) {
      const body = response.body.toString('latin1');
      expect([path, body.includes('root:') || body.includes('canary') || body.includes('PATH=')]).toEqual([path, false]);
      if (response.status !== 404) expect([path, response.status, servedBodies.has(body) || body.startsWith('1.0\n')]).toEqual([path, 200, true]);
    }
    expect(responses.filter(([, response]) => response.status === 404).length).toBeGreaterThan(TRAVERSALS.length / 2);
  });

  test('a path that is not UTF-8, or not a path: 404', async () => {
    await withDiskServer(async (server) => {
      expect((await rawRequest(server.port, { path: '/%ff', headers })).status).toBe(404);
      expect((await rawRequest(server.port, { path: '/openstack/%c3', headers })).status).toBe(404);
      const absolute = await rawExchange(server.port, `GET http://169.254.169.254/openstack HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      expect(absolute).toMatch(/^HTTP\/1\.1 404 /);
    });
  });

  test('unknown versions and names: 404', async () => {
    await withDiskServer(async (server) => {
      for (const path of ['/openstack/2099-01-01/meta_data.json', '/openstack/2012-08-10/password', '/openstack/latest2', '/2099-01-01/meta-data/', '/latest/meta-data/security-groups/default', '/openstack/latest/content']) {
        expect([path, (await rawRequest(server.port, { path, headers })).status]).toEqual([path, 404]);
      }
    });
  });

  test('huge headers: 431, and the server keeps serving', async () => {
    await withDiskServer(async (server) => {
      const huge = await rawExchange(server.port, `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      expect(huge).toMatch(/^HTTP\/1\.1 431 /);
      const many = await rawExchange(server.port, `GET / HTTP/1.1\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`);
      expect(many).toMatch(/^HTTP\/1\.1 431 /);
      const signature = await rawRequest(server.port, { path: '/openstack/latest/meta_data.json', headers: { ...headers, 'X-Instance-ID-Signature': 'f'.repeat(7000) } });
      expect(signature.status).toBe(403);
      await stillServing(server);
    });
  });

  test('methods other than GET and HEAD: 405 with Allow (POST only on the password)', async () => {
    await withDiskServer(async (server) => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND']) {
        const response = await rawRequest(server.port, { method, path: '/openstack/latest/meta_data.json', headers, body: 'x' });
        expect([method, response.status, response.headers['allow']]).toEqual([method, 405, 'GET, HEAD']);
        expect(response.body.toString()).toBe(`405 Method Not Allowed\n\nThe method ${method} is not allowed for this resource. \n\n `);
      }
      expect((await rawRequest(server.port, { method: 'DELETE', path: '/', headers })).status).toBe(405);
      const put = await rawRequest(server.port, { method: 'PUT', path: '/openstack/latest/password', headers, body: 'x' });
      expect([put.status, put.headers['allow']]).toEqual([405, 'GET, HEAD, POST']);
      const head = await rawRequest(server.port, { method: 'HEAD', path: '/openstack/latest/meta_data.json', headers });
      expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(instance.metadata.openstack.get('latest')!.get('meta_data.json')!.length), 0]);
      expect(await rawExchange(server.port, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\n\r\n')).not.toContain('200');
      await stillServing(server);
    });
  });

  test('a password body past 1020 bytes, declared or streamed: 400 and the connection is closed', async () => {
    await withDiskServer(async (server) => {
      const path = '/openstack/latest/password';
      const declared = await rawRequest(server.port, { method: 'POST', path, headers, body: Buffer.alloc(1024 * 1024, 'a') });
      expect([declared.status, declared.headers['connection']]).toEqual([400, 'close']);
      const chunked = await rawExchange(
        server.port,
        `POST ${path} HTTP/1.1\r\nHost: 169.254.169.254\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Transfer-Encoding: chunked\r\n\r\n` +
          `400\r\n${'a'.repeat(1024)}\r\n400\r\n${'a'.repeat(1024)}\r\n0\r\n\r\n`,
      );
      expect(chunked).toMatch(/^HTTP\/1\.1 400 [^]*Connection: close[^]*Request is too large\./);
      expect((await rawRequest(server.port, { path, headers })).body.toString()).toBe('');
    });
  });

  test('10,000 concurrent connections closed early: no crash, and the server keeps serving', async () => {
    await withDiskServer(async (server) => {
      const { stdout } = await promisify(execFile)(process.execPath, [FLOOD, String(server.port), '10000'], { timeout: 120_000 });
      const outcome = JSON.parse(stdout) as { connected: number; failed: number };
      expect(outcome.connected + outcome.failed).toBe(10_000);
      expect(outcome.connected).toBeGreaterThan(9_000);
      await stillServing(server);
    });
  }, 180_000);
});

describe('what only the config drive holds', () => {
  // Only root in the guest can mount the drive; every local user can ask 169.254.169.254.
  test.each([
    ['a record saved now', 'v2'],
    ['a v1 record, written with them', 'v1'],
  ])('%s: no path serves the admin password or an injected file, by proxy or by address', async (_name, format) => {
    const injected = served(injectedNetworkRequest());
    const { uuid, project_id: tenant } = injected.request.instance;
    const instances = join(root, `drive-only-${format}`);
    const directory = instanceDir(instances, uuid);
    await mkdir(directory, { recursive: true });
    if (format === 'v1') await writeFile(join(directory, RECORD_FILE), v1RecordText(injected));
    else await saveInstanceMetadata(directory, injected.record);
    const registry = await openMetadataRegistry(instances, memoryLogger().log);
    const proxied = proxyHeaders(uuid, tenant, SECRET, '10.1.2.3');
    const paths = ['/', '/openstack', '/openstack/content', ...(await ec2Paths(injected, proxied)), ...openstackPaths(), ...['0000', '0001', '0002', '0003'].map((key) => `/openstack/content/${key}`)];
    const identities = [
      { config: apiConfig(), headers: proxied },
      { config: apiConfig({ proxy: false, use_forwarded_for: true }), headers: { 'X-Forwarded-For': '10.1.2.3' } },
    ];
    const answers: [string, number, string][] = [];
    for (const { config, headers: identity } of identities) {
      await withServer({ config, registry }, async (server) => {
        for (const path of paths) {
          const response = await rawRequest(server.port, { path, headers: identity });
          answers.push([path, response.status, response.body.toString('latin1')]);
        }
      });
    }
    const secrets = driveOnly(injected.request);
    expect(answers.flatMap(([path, , body]) => secrets.filter((secret) => body.includes(secret)).map((secret) => [path, secret]))).toEqual([]);
    // The walk reached the documents, and content/ still serves the interfaces file (Nova's service has it too).
    expect(answers.filter(([path, status]) => path.endsWith('/meta_data.json') && status === 200)).toHaveLength(2 * OPENSTACK_VERSION_DIRECTORIES.length);
    expect(answers.filter(([path]) => path.startsWith('/openstack/content')).map(([path, status, body]) => [path, status, body.startsWith('# Injected by Nova')])).toEqual(
      [...Array(2)].flatMap(() => [
        ['/openstack/content', 404, false],
        ['/openstack/content/0000', 200, true],
        ['/openstack/content/0001', 404, false],
        ['/openstack/content/0002', 404, false],
        ['/openstack/content/0003', 404, false],
      ]),
    );
  });
});
