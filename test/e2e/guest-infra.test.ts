import { chmod, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DriveTree } from '../../src/configdrive/tree.js';
import { parseGuestDump } from './console-dump.js';
import { testDomainXml, type DriveAttachment, type TestDomain } from './domain-xml.js';
import { ensureGuestImage, type GuestImage } from './guest.js';
import { ensureLibvirtd, virsh, waitForShutoff } from './libvirtd.js';
import { runTool } from './run-tool.js';

/**
 * Proves the end-to-end infrastructure itself, with no nova-spawnd code in the loop: config drives made by
 * genisoimage and mkfs.vfat+mcopy, domains in hand-written XML on the real libvirtd, and the test guest reading
 * the drive back through its own kernel. If this fails, a failing nova-spawnd end-to-end test means nothing.
 */

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const TREE: DriveTree = new Map<string, Uint8Array>([
  ['openstack/latest/meta_data.json', Buffer.from('{"uuid": "d9e8c6a2-6f0e-4a53-9d47-3b9b0f5e2c11", "name": "guest-infra"}')],
  // Every byte value, and more than one base64 line, without a trailing newline.
  ['openstack/latest/user_data', Buffer.concat([Buffer.from('#cloud-config\n'), allBytes, allBytes.reverse()])],
  ['openstack/content/0000', Buffer.from('file injected through the personality mechanism\n')],
  ['openstack/2012-08-10/meta_data.json', Buffer.from('{"uuid": "d9e8c6a2-6f0e-4a53-9d47-3b9b0f5e2c11"}')],
  ['openstack/latest/vendor_data2.json', Buffer.alloc(0)],
  ['ec2/latest/meta-data.json', Buffer.from('{"instance-id": "i-00000001"}')],
  ['name with spaces.txt', Buffer.from('names may hold spaces\n')],
]);

interface Variant {
  title: string;
  machine: TestDomain['machine'];
  format: 'iso9660' | 'vfat';
  drive: DriveAttachment;
  /** Where the guest kernel puts it: the name follows the driver, not the XML target. */
  guestDevice: string;
}

const VARIANTS: Variant[] = [
  { title: 'ISO 9660 CD-ROM on pc/IDE', machine: 'pc', format: 'iso9660', drive: { device: 'cdrom', bus: 'ide' }, guestDevice: '/dev/sr0' },
  { title: 'ISO 9660 CD-ROM on q35/SATA', machine: 'q35', format: 'iso9660', drive: { device: 'cdrom', bus: 'sata' }, guestDevice: '/dev/sr0' },
  { title: 'VFAT disk on virtio', machine: 'pc', format: 'vfat', drive: { device: 'disk', bus: 'virtio' }, guestDevice: '/dev/vda' },
];

let work: string;
let guest: GuestImage;

beforeAll(async () => {
  await ensureLibvirtd();
  guest = await ensureGuestImage();
  work = await mkdtemp(join(tmpdir(), 'guest-infra-'));
  // qemu runs as libvirt-qemu and opens the drive and the console file itself.
  await chmod(work, 0o755);
}, 10 * 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the guest kernel is the vmlinux ELF with a PVH entry note (readelf), for direct boot', async () => {
  const notes = (await runTool('readelf', ['--notes', guest.kernel])).toString();
  expect(notes).toMatch(/Xen\s+0x[0-9a-f]+\s+Unknown note type: \(0x00000012\)/);
});

test.each(VARIANTS)('$title: the guest finds config-2, mounts it as $format and reads back every byte', async (variant) => {
  const name = `nova-spawnd-e2e-infra-${variant.machine}-${variant.drive.bus}-${process.pid}`;
  const dir = join(work, `${variant.machine}-${variant.drive.bus}`);
  await mkdir(dir, { mode: 0o755 });
  const drivePath = join(dir, 'disk.config');
  const consolePath = join(dir, 'console.log');
  await (variant.format === 'iso9660' ? makeIso : makeVfat)(TREE, drivePath, dir);

  const xmlPath = join(dir, 'domain.xml');
  await writeFile(xmlPath, testDomainXml({ name, machine: variant.machine, guest, drive: variant.drive, drivePath, consolePath }));
  await virsh('define', xmlPath);
  try {
    await virsh('start', name);
    await waitForShutoff(name, { consolePath });
  } finally {
    await virsh('destroy', name).catch(() => undefined);
    await virsh('undefine', name);
  }

  const dump = parseGuestDump(await readFile(consolePath, 'utf8'));
  expect({ device: dump.device, fstype: dump.fstype }).toEqual({ device: variant.guestDevice, fstype: variant.format });
  expect([...dump.files.keys()].sort()).toEqual([...TREE.keys()].sort());
  for (const [path, bytes] of TREE) expect({ path, bytes: dump.files.get(path) }).toEqual({ path, bytes: Buffer.from(bytes) });
}, 120_000);

async function writeTree(tree: DriveTree, root: string): Promise<void> {
  for (const [path, bytes] of tree) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
}

/** Nova's config_drive_format=iso9660 command line (nova/virt/configdrive.py, _make_iso9660), minus -publisher. */
async function makeIso(tree: DriveTree, image: string, scratch: string): Promise<void> {
  const root = join(scratch, 'tree');
  await writeTree(tree, root);
  await runTool('genisoimage', ['-o', image, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-quiet', '-J', '-r', '-V', 'config-2', root]);
}

/**
 * Nova's config_drive_format=vfat (_make_vfat): a 64 MiB file, mkfs.vfat -n config-2; Nova then loop-mounts it to
 * copy the files in, which this host cannot do, so mcopy writes them (with the same long-file-name entries).
 */
async function makeVfat(tree: DriveTree, image: string, scratch: string): Promise<void> {
  const root = join(scratch, 'tree');
  await writeTree(tree, root);
  await writeFile(image, '');
  await truncate(image, 64 * 1024 * 1024);
  await runTool('mkfs.vfat', ['-n', 'config-2', image]);
  const topLevel = [...new Set([...tree.keys()].map((path) => path.split('/')[0]!))];
  await runTool('mcopy', ['-s', '-i', image, ...topLevel.map((name) => join(root, name)), '::/']);
}
