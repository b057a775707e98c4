/** Our names, commands and Glance requests against Nova's own code (Debian's python3-nova) on the same input. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ephemeralCommands, ephemeralFilesystem, swapCommands } from '../../../src/virt/imagecache/blank-disks.js';
import { cacheFileName, ephemeralCacheFileName, swapCacheFileName } from '../../../src/virt/imagecache/cache-names.js';
import { ImageCache } from '../../../src/virt/imagecache/image-cache.js';
import { runPython } from '../../metadata/python.js';
import { memoryLogger } from './disk-tools.js';
import { FakeGlance } from './fake-glance.js';

const NOVA = join(dirname(fileURLToPath(import.meta.url)), 'nova_imagecache.py');

/** Nova runs its tools under `env LC_ALL=C LANG=C`; runDiskCommand sets the same environment instead. */
function withoutEnv(command: string[]): string[] {
  return command[0] === 'env' ? command.slice(3) : command;
}

test('cache file names and the ephemeral/swap base commands are Nova’s', async () => {
  const ids = ['1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d', 'ami-00000001', 'ünïcode'];
  // [os_type, default_ephemeral_format, ephemeral_gb]
  const ephemeral: [string | null, string | null, number][] = [
    [null, null, 1],
    ['linux', null, 20],
    ['windows', null, 2],
    ['plan9', null, 1],
    [null, 'ext4', 1],
    ['windows', 'ext3', 5],
    ['linux', 'xfs', 10],
  ];
  const swap = [1, 512, 2048];
  const nova = JSON.parse(await runPython([NOVA], { mode: 'names', ids, ephemeral, swap })) as {
    cache: string[];
    ephemeral: { name: string; commands: string[][] }[];
    swap: { name: string; commands: string[][] }[];
  };

  expect(ids.map(cacheFileName)).toEqual(nova.cache);
  expect(
    ephemeral.map(([osType, defaultFormat, sizeGb]) => {
      const filesystem = ephemeralFilesystem(osType, defaultFormat);
      return { name: ephemeralCacheFileName(sizeGb, filesystem), commands: ephemeralCommands('/i/disk.local', sizeGb, filesystem) };
    }),
  ).toEqual(nova.ephemeral.map(({ name, commands }) => ({ name, commands: commands.map(withoutEnv) })));
  expect(swap.map((mb) => ({ name: swapCacheFileName(mb), commands: swapCommands('/i/disk.swap', mb) }))).toEqual(
    nova.swap.map(({ name, commands }) => ({ name, commands: commands.map(withoutEnv) })),
  );
});

test('the same Glance requests as Nova’s glance client, for every way of writing api_servers', async () => {
  const glance = await FakeGlance.start();
  const scratch = await mkdtemp(join(tmpdir(), 'imagecache-nova-'));
  try {
    const id = '7c1e2a2e-0b7e-4f5e-9a55-3a4c4f1e2d10';
    const bytes = randomBytes(200_000);
    glance.set(id, { kind: 'serve', bytes });
    const servers = [glance.url, `${glance.url}/`, `${glance.url}/image`, `${glance.url}/image/v2`];
    const token = 'gAAAAAB-nova-token';

    const novaBytes = JSON.parse(await runPython([NOVA], { mode: 'download', id, token, servers })) as string[];
    const novaRequests = glance.requests.splice(0).filter((request) => request.path.endsWith('/file'));

    const ours = [];
    for (const [index, server] of servers.entries()) {
      const cache = new ImageCache({ instancesPath: join(scratch, String(index)), apiServers: [server], log: memoryLogger() });
      ours.push((await readFile((await cache.ensureImage(id, { auth_token: token }, null)).path)).toString('hex'));
    }

    expect(novaBytes).toEqual(servers.map(() => bytes.toString('hex')));
    expect(ours).toEqual(novaBytes);
    expect(glance.requests).toEqual(novaRequests);
    expect(novaRequests.map((request) => request.path)).toEqual([
      `/v2/images/${id}/file`,
      `/v2/images/${id}/file`,
      `/image/v2/images/${id}/file`,
      `/image/v2/v2/images/${id}/file`,
    ]);
  } finally {
    await glance.stop();
    await rm(scratch, { recursive: true, force: true });
  }
});
