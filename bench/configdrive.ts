/**
 * Config drive build time for a Nova-typical instance (every metadata version, 2 injected files, 2 VIFs):
 * our in-process writers against the tools Nova runs, on the same tree, in the same run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { buildImage, PUBLISHER } from '../src/configdrive/make-drive.js';
import { writeDiskImage } from '../src/configdrive/disk-image.js';
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

    return table(`Config drive build, ${tree.size} files (${[...tree.values()].reduce((n, d) => n + d.length, 0)} bytes)`, rows);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
