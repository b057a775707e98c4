/**
 * Config drive build time for a Nova-typical instance (every metadata version, 2 injected files, 2 VIFs):
 * our in-process writers against the tools Nova runs, on the same tree, in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { buildImage, PUBLISHER } from '../src/configdrive/make-drive.js';
import { writeDiskImage } from '../src/disk-image.js';
import type { DriveTree } from '../src/configdrive/tree.js';
import { buildInstanceMetadata, toDriveTree } from '../src/metadata/instance-metadata.js';
import { FULL_BLOCK_DEVICES, fullRequest, testOptions } from '../test/metadata/fixtures.js';
import { novaPipelineSeconds } from '../test/metadata/nova-reference.js';
import { row, table, timeAsync, timeSync, type Row } from './stats.js';

const recordedAt = new Date('2026-11-26T12:00:00Z');

function writeTree(tree: DriveTree, root: string): void {
  for (const [path, data] of tree) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
}

/** Peak resident memory of a whole command, in KiB, as GNU time reports it. */
function peakRssKiB(command: string, args: string[]): number {
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return Number(result.stderr.trim().split('\n').pop());
}

/** What a drive costs in memory: the reference tools' peak RSS against the bytes our writers allocate. */
function memoryTable(tree: DriveTree, treeDir: string, out: string): string {
  const genisoimage = peakRssKiB('genisoimage', ['-o', out, '-quiet', '-J', '-r', '-V', 'config-2', treeDir]);
  unlinkSync(out);
  const mkfs = peakRssKiB('mkfs.vfat', ['-n', 'config-2', '-C', out, '65536']);
  const mcopy = peakRssKiB('mcopy', ['-s', '-i', out, join(treeDir, 'openstack'), join(treeDir, 'ec2'), '::/']);
  unlinkSync(out);
  const held = (format: 'iso9660' | 'vfat'): number => {
    const image = buildImage(tree, format, recordedAt);
    // VFAT extents may be views of the tree's own file bytes (zero-copy): count only what the writer allocated.
    const isFileView = (bytes: Uint8Array): boolean =>
      [...tree.values()].some((d) => d.buffer === bytes.buffer && d.byteOffset === bytes.byteOffset && d.length === bytes.length);
    return image.extents.filter((e) => !isFileView(e.bytes)).reduce((n, e) => n + e.bytes.length, 0) / 1024;
  };
  return [
    '### Memory per config drive',
    '',
    '| what | KiB |',
    '|---|---:|',
    `| genisoimage peak RSS (whole process) | ${genisoimage} |`,
    `| nova-spawnd ISO writer: bytes allocated for the image | ${held('iso9660').toFixed(0)} |`,
    `| mkfs.vfat + mcopy peak RSS (the larger of the two processes) | ${Math.max(mkfs, mcopy)} |`,
    `| nova-spawnd VFAT writer: bytes allocated for a 64 MiB image (sparse extents) | ${held('vfat').toFixed(0)} |`,
  ].join('\n');
}

export async function benchConfigDrive(quick: boolean): Promise<string> {
  const request = fullRequest();
  const options = testOptions();
  const tree = toDriveTree(buildInstanceMetadata(request, options, FULL_BLOCK_DEVICES));
  const scratch = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-bench-'));
  const inProcessRuns = quick ? 200 : 3000;
  const processRuns = quick ? 10 : 60;
  try {
    const treeDir = join(scratch, 'tree');
    writeTree(tree, treeDir);
    const out = join(scratch, 'disk.config');
    const rows: Row[] = [];

    rows.push(row('genisoimage (Nova\'s arguments, tree on disk)', timeSync(() => {
      execFileSync('genisoimage', ['-o', out, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-publisher', PUBLISHER, '-quiet', '-J', '-r', '-V', 'config-2', treeDir], { stdio: 'ignore' });
      unlinkSync(out);
    }, processRuns, 2)));
    const novaSeconds = await novaPipelineSeconds(
      { request, dhcp_domain: options.dhcp_domain, config_drive_skip_versions: options.config_drive_skip_versions, vendordata_providers: options.vendordata_providers, vendordata_json: null, blockDevices: FULL_BLOCK_DEVICES, ec2Ids: options.ec2Ids(request.instance), randomSeeds: [] },
      processRuns,
      scratch,
    );
    rows.push(row("Nova's pipeline (InstanceMetadata + make_drive, in python3-nova)", novaSeconds.map((s) => s * 1000)));
    rows.push(row('nova-spawnd ISO writer (in-process, tree in memory)', timeSync(() => buildImage(tree, 'iso9660', recordedAt), inProcessRuns), "genisoimage (Nova's arguments, tree on disk)"));
    rows.push(row('nova-spawnd metadata + ISO (in-process)', timeSync(() => buildImage(toDriveTree(buildInstanceMetadata(request, options, FULL_BLOCK_DEVICES)), 'iso9660', recordedAt), inProcessRuns), "Nova's pipeline (InstanceMetadata + make_drive, in python3-nova)"));
    rows.push(row('nova-spawnd metadata + ISO, written and synced to disk', await timeAsync(async () => {
      await writeDiskImage(out, buildImage(toDriveTree(buildInstanceMetadata(request, options, FULL_BLOCK_DEVICES)), 'iso9660', recordedAt), { exclusive: true });
      unlinkSync(out);
    }, processRuns * 3), "Nova's pipeline (InstanceMetadata + make_drive, in python3-nova)"));

    rows.push(row('mkfs.vfat -C 64 MiB + mcopy -s (tree on disk)', timeSync(() => {
      execFileSync('mkfs.vfat', ['-n', 'config-2', '-C', out, '65536'], { stdio: 'ignore' });
      execFileSync('mcopy', ['-s', '-i', out, join(treeDir, 'openstack'), join(treeDir, 'ec2'), '::/']);
      unlinkSync(out);
    }, processRuns, 2)));
    rows.push(row('nova-spawnd VFAT writer (in-process, sparse extents)', timeSync(() => buildImage(tree, 'vfat', recordedAt), inProcessRuns), 'mkfs.vfat -C 64 MiB + mcopy -s (tree on disk)'));
    rows.push(row('nova-spawnd VFAT, written sparse and synced to disk', await timeAsync(async () => {
      await writeDiskImage(out, buildImage(tree, 'vfat', recordedAt), { exclusive: true });
      unlinkSync(out);
    }, processRuns * 3), 'mkfs.vfat -C 64 MiB + mcopy -s (tree on disk)'));

    const bytes = [...tree.values()].reduce((n, d) => n + d.length, 0);
    return [table(`Config drive build, ${tree.size} files (${bytes} bytes)`, rows), memoryTable(tree, treeDir, out)].join('\n\n');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
