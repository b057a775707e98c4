import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/version.js';
import { DirectorySyncGroup, parentsOfCreated, placeImage, replaceFile, syncPath } from '../src/durable-files.js';

test.each([
  ['nothing created', '/srv/instances', undefined, []],
  ['only the last directory', '/srv/instances', '/srv/instances', ['/srv']],
  ['two levels', '/srv/instances', '/srv', ['/srv', '/']],
  ['something below the path', '/srv/instances', '/srv/instances/abc', []],
  ['relative, as mkdir gives it back', 'var/instances', 'var/instances', [join(process.cwd(), 'var')]],
] as const)('parentsOfCreated: %s', (_name, path, created, parents) => {
  expect(parentsOfCreated(path, created)).toEqual(parents);
});

test('syncPath syncs a real directory and names a missing one', async () => {
  const root = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-sync-'));
  try {
    await expect(syncPath(root)).resolves.toBeUndefined();
    await expect(syncPath(join(root, 'missing'))).rejects.toThrow(join(root, 'missing'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('replaceFile puts the new content in place of the old, with its mode, and leaves nothing staged', async () => {
  const root = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-replace-'));
  try {
    const path = join(root, 'libvirt.xml');
    writeFileSync(path, '<domain>old</domain>');
    await replaceFile(path, '<domain>new</domain>', 0o600);
    expect(readFileSync(path, 'utf8')).toBe('<domain>new</domain>');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(root)).toEqual(['libvirt.xml']);
    await expect(replaceFile(join(root, 'missing', 'libvirt.xml'), 'x')).rejects.toThrow(join(root, 'missing'));
    expect(readdirSync(root)).toEqual(['libvirt.xml']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a failed operation fails with the system error as a call on this thread would: code, syscall and path', async () => {
  const missing = join(os.tmpdir(), 'nova-spawnd-no-such-directory', 'x');
  await expect(syncPath(missing)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing, message: expect.stringContaining(missing) });
});

test('placeImage puts an image in place, keeps a file already there, and leaves nothing staged, also many at once', async () => {
  const root = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-place-'));
  try {
    const image = (byte: number) => ({ size: 8192, extents: [{ offset: 4096, bytes: Uint8Array.of(byte, byte) }] });
    await expect(placeImage(join(root, 'disk.config'), image(1))).resolves.toBe('created');
    const placed = readFileSync(join(root, 'disk.config'));
    expect([placed.length, placed[4096], placed[4097], placed[0]]).toEqual([8192, 1, 1, 0]);
    await expect(placeImage(join(root, 'disk.config'), image(2))).resolves.toBe('exists');
    expect(readFileSync(join(root, 'disk.config')).equals(placed)).toBe(true);

    const names = Array.from({ length: 40 }, (_, i) => `disk-${i}`);
    expect(await Promise.all(names.map((name, i) => placeImage(join(root, name), image(i))))).toEqual(names.map(() => 'created'));
    expect(names.map((name) => readFileSync(join(root, name))[4096])).toEqual(names.map((_, i) => i));
    expect(readdirSync(root).sort()).toEqual(['disk.config', ...names].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an operation whose arguments cannot reach a worker fails alone, and the workers go on', async () => {
  const root = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-clone-'));
  try {
    const uncloneable = { toString: () => 'x', method: () => 1 } as unknown as string;
    await expect(replaceFile(join(root, 'a'), uncloneable)).rejects.toMatchObject({ name: 'DataCloneError' });
    await replaceFile(join(root, 'b'), 'fine');
    expect(readdirSync(root)).toEqual(['b']);
    // Calls made in one turn travel together: the one that cannot travel still fails alone.
    const together = await Promise.allSettled([replaceFile(join(root, 'c'), 'fine'), replaceFile(join(root, 'd'), uncloneable), syncPath(root)]);
    expect(together.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(together[1]).toMatchObject({ reason: { name: 'DataCloneError' } });
    expect(readdirSync(root).sort()).toEqual(['b', 'c']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the workers start whatever flags the process was started with (here --input-type, which a worker refuses)', () => {
  const durableFiles = join(PACKAGE_ROOT, 'dist', 'src', 'durable-files.js');
  const script = `const { syncPath } = await import(${JSON.stringify(durableFiles)}); await syncPath(${JSON.stringify(os.tmpdir())}); console.log('synced');`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect({ status: result.status, stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({ status: 0, stdout: 'synced', stderr: '' });
});

/** A sync function whose calls the test finishes by hand. */
function manualSyncs(): { syncOne: (path: string) => Promise<void>; calls: { path: string; finish: (error?: Error) => void }[] } {
  const calls: { path: string; finish: (error?: Error) => void }[] = [];
  const syncOne = (path: string): Promise<void> =>
    new Promise<void>((resolve, reject) => calls.push({ path, finish: (error) => (error ? reject(error) : resolve()) }));
  return { syncOne, calls };
}

const settled = async (promise: Promise<void>): Promise<string> => {
  const outcome = await Promise.race([promise.then(() => 'done', (error: Error) => `failed: ${error.message}`), new Promise((resolve) => setTimeout(resolve, 20, 'pending'))]);
  return outcome as string;
};

describe('DirectorySyncGroup', () => {
  test('callers that come during a sync are answered by one sync that begins after it', async () => {
    const { syncOne, calls } = manualSyncs();
    const group = new DirectorySyncGroup(syncOne);
    const first = group.sync('/srv/instances');
    const laterOnes = [group.sync('/srv/instances'), group.sync('/srv/instances'), group.sync('/srv/instances')];
    expect(calls.map((call) => call.path)).toEqual(['/srv/instances']);

    calls[0]!.finish();
    expect(await settled(first)).toBe('done');
    // The first sync may have begun before their changes: they wait for the next.
    expect(await Promise.all(laterOnes.map(settled))).toEqual(['pending', 'pending', 'pending']);
    expect(calls).toHaveLength(2);

    calls[1]!.finish();
    expect(await Promise.all(laterOnes.map(settled))).toEqual(['done', 'done', 'done']);
    expect(calls).toHaveLength(2);
  });

  test('directories are synced independently, and a failure reaches only the callers of that sync', async () => {
    const { syncOne, calls } = manualSyncs();
    const group = new DirectorySyncGroup(syncOne);
    const a = group.sync('/a');
    const b = group.sync('/b');
    expect(calls.map((call) => call.path)).toEqual(['/a', '/b']);
    const afterA = group.sync('/a');

    calls[0]!.finish(new Error('EIO'));
    calls[1]!.finish();
    expect(await settled(a)).toBe('failed: EIO');
    expect(await settled(b)).toBe('done');
    calls[2]!.finish();
    expect(await settled(afterA)).toBe('done');

    // Nothing in flight: the next caller starts a sync at once.
    const fresh = group.sync('/a');
    expect(calls).toHaveLength(4);
    calls[3]!.finish();
    expect(await settled(fresh)).toBe('done');
  });
});
