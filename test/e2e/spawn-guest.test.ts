/**
 * The end-to-end proof: a real guest on qemu:///system, spawned through nova-spawnd's own pipeline (image
 * cache, disks, domain XML, attach rules, config drive writer, libvirt connection) from a real
 * build_and_run_instance-shaped request. The guest finds the drive by its label, prints every file to its
 * serial console and powers off; the test compares those bytes with what was requested.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SpawnPipeline } from '../../src/compute/spawn-pipeline.js';
import type { ConfigDriveFormat } from '../../src/configdrive/make-drive.js';
import { getLogger } from '../../src/log.js';
import { openMetadataRegistry } from '../../src/metadata-api/registry.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { LibvirtConnection } from '../../src/virt/connection.js';
import { consoleLogPath } from '../../src/virt/instance-paths.js';
import { ImageCache, LocalDiskPreparer } from '../../src/virt/imagecache/index.js';
import { testOptions } from '../metadata/fixtures.js';
import { virtOptions } from '../virt/fixtures.js';
import { parseGuestDump } from './console-dump.js';
import type { GuestImage } from './guest.js';
import { guestSpawnRequest, prepareGuestHost } from './guest-host.js';
import { INSTALL_TIMEOUT_MS, SYSTEM_URI, waitForShutoff } from './libvirtd.js';

interface Variant {
  title: string;
  format: ConfigDriveFormat;
  machine: string;
  /** What the guest kernel mounts the drive as. */
  fstype: string;
  /** The target bus our attach rules must choose, read back from libvirt's own view of the domain. */
  target: RegExp;
}

const VARIANTS: Variant[] = [
  { title: 'ISO 9660 on pc (cdrom on ide)', format: 'iso9660', machine: 'pc', fstype: 'iso9660', target: /<disk type='file' device='cdrom'>[\s\S]*?<target dev='hda' bus='ide'\/>/ },
  { title: 'ISO 9660 on q35 (cdrom on sata)', format: 'iso9660', machine: 'q35', fstype: 'iso9660', target: /<disk type='file' device='cdrom'>[\s\S]*?<target dev='sda' bus='sata'\/>/ },
  { title: 'VFAT (disk on virtio)', format: 'vfat', machine: 'pc', fstype: 'vfat', target: /<disk type='file' device='disk'>[\s\S]*?disk\.config[\s\S]*?<target dev='vdb' bus='virtio'\/>/ },
];

let instancesPath: string;
let guest: GuestImage;
const connection = new LibvirtConnection(SYSTEM_URI);

beforeAll(async () => {
  ({ instancesPath, guest } = await prepareGuestHost());
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await connection.close();
  if (instancesPath) rmSync(instancesPath, { recursive: true, force: true });
});

function guestRequest(variant: Variant, index: number): SpawnRequest {
  const id = 0xe2e0 + index;
  return guestSpawnRequest(
    { id, uuid: `e2e00000-0000-4000-8000-${String(id).padStart(12, '0')}`, display_name: `e2e <${variant.title}> & "quotes"` },
    { os_command_line: guest.cmdline, hw_machine_type: variant.machine },
  );
}

describe.each(VARIANTS.map((variant, index) => [variant.title, variant, index] as const))('a real guest: %s', (_, variant, index) => {
  test('finds the drive by label config-2 and reads exactly the requested meta_data.json, user_data and injected file', async () => {
    const request = guestRequest(variant, index);
    const spawner = new SpawnPipeline(
      { virt: virtOptions({ instances_path: instancesPath, virt_type: 'qemu' }), metadata: testOptions(), drive: { format: variant.format, force_config_drive: false, mkisofsCmd: null } },
      { connection, disks: new LocalDiskPreparer(new ImageCache({ instancesPath, apiServers: [] }), { defaultEphemeralFormat: null }), log: getLogger('e2e'), records: await openMetadataRegistry(instancesPath, getLogger('e2e.metadata')) },
    );
    const uuid = request.instance.uuid;
    const result = await spawner.spawn(request);
    try {
      expect(result.outcome).toBe('spawned');
      expect(await connection.getXml(result.domain)).toMatch(variant.target);
      await waitForShutoff(result.domain, { consolePath: consoleLogPath(instancesPath, uuid) });

      const dump = parseGuestDump(readFileSync(consoleLogPath(instancesPath, uuid), 'utf8'));
      expect(dump.fstype).toBe(variant.fstype);
      const metaData = JSON.parse(dump.files.get('openstack/latest/meta_data.json')!.toString()) as Record<string, unknown>;
      expect(metaData).toMatchObject({
        uuid,
        name: request.instance.display_name,
        hostname: `${request.instance.hostname}.novalocal`,
        admin_pass: request.admin_password,
        files: [
          { path: '/etc/motd', content_path: '/content/0000' },
          { path: '/root/blob.bin', content_path: '/content/0001' },
        ],
      });
      expect(dump.files.get('openstack/latest/user_data')).toEqual(request.instance.user_data);
      expect(dump.files.get('openstack/content/0000')).toEqual(request.injected_files[0]!.contents);
      expect(dump.files.get('openstack/content/0001')).toEqual(request.injected_files[1]!.contents);
      // Everything the guest saw is what our own reader finds in the image on the host.
      const onHost = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli.js'), 'drive', 'cat', join(instancesPath, uuid, 'disk.config'), 'openstack/latest/meta_data.json']);
      expect(dump.files.get('openstack/latest/meta_data.json')).toEqual(onHost);
    } finally {
      await connection.undefine(result.domain).catch(() => undefined);
    }
  }, 180_000);
});
