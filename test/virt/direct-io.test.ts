/** Our O_DIRECT probe against Nova's own (nova.privsep.utils.supports_direct_io) on the same directories. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { supportsDirectIo } from '../../src/virt/direct-io.js';
import { runPython } from '../metadata/python.js';

const NOVA = `
import json, sys
from nova.privsep import utils
result = {}
for path in json.load(sys.stdin):
    try:
        result[path] = utils.supports_direct_io(path)
    except OSError as error:
        result[path] = type(error).__name__
json.dump(result, sys.stdout)
`;

let dirs: string[];
beforeAll(async () => {
  // The machine's temp directory and a tmpfs (older kernels refuse O_DIRECT on tmpfs).
  dirs = await Promise.all([mkdtemp(join(tmpdir(), 'direct-io-')), mkdtemp('/dev/shm/direct-io-')]);
});
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

test('same answer as Nova, and no test file left behind', async () => {
  const missing = join(dirs[0]!, 'missing');
  const paths = [...dirs, missing];
  const nova = JSON.parse(await runPython(['-c', NOVA], paths)) as Record<string, unknown>;
  const ours = Object.fromEntries(await Promise.all(paths.map(async (path) => [path, await supportsDirectIo(path)] as const)));
  expect(ours).toEqual(nova);
  expect(ours[missing]).toBe(false);
  expect(await Promise.all(dirs.map((dir) => readdir(dir)))).toEqual([[], []]);
});

test('a path that is not a directory is an error, as in Nova', async () => {
  const file = join(dirs[0]!, 'file');
  await writeFile(file, '');
  const nova = JSON.parse(await runPython(['-c', NOVA], [file])) as Record<string, unknown>;
  expect(nova[file]).toBe('NotADirectoryError');
  await expect(supportsDirectIo(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
  await rm(file);
});
