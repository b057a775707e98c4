/**
 * Plan + render, read back with xml2js's parser, and checked by libvirt's own schema (virt-xml-validate)
 * for every guest shape we produce.
 */
import { NOVA_NS, renderDomainXml } from '../../src/virt/domain-xml.js';
import { planGuest, type GuestRequest } from '../../src/virt/plan-guest.js';
import { guestRequest, IMAGE_ID, INSTANCES_PATH, spawnRequest, UUID, vif } from './fixtures.js';
import { parseDomain } from './parse-domain.js';
import { virtXmlValidate } from './xml-validate.js';

const DIR = `${INSTANCES_PATH}/${UUID}`;
const WITH_EPHEMERAL_AND_SWAP = { flavor: { ...spawnRequest().instance.flavor, ephemeral_gb: 1, swap: 512 } };
const ALL_DISK_IMAGES: GuestRequest['images'] = {
  disk: { path: `${DIR}/disk`, format: 'qcow2' },
  'disk.local': { path: `${DIR}/disk.local`, format: 'raw' },
  'disk.swap': { path: `${DIR}/disk.swap`, format: 'raw' },
};

const NICS = [
  vif({ id: '11111111-0000-4000-8000-000000000001', address: 'fa:16:3e:00:00:01', type: 'ovs', devname: 'tap11111111-00' }),
  vif({ id: '22222222-0000-4000-8000-000000000002', address: 'fa:16:3e:00:00:02', type: 'bridge', bridge: 'brq-1', devname: 'tap22222222-00', mtu: undefined }),
  vif({ id: '33333333-0000-4000-8000-000000000003', address: 'fa:16:3e:00:00:03', type: 'ovs', delegate_create: true, devname: 'tap33333333-00', mtu: '9000' }),
  vif({ id: '44444444-0000-4000-8000-000000000004', address: 'fa:16:3e:00:00:04', type: 'ovs', delegate_create: true, devname: null }),
];

const HOSTILE = `<x>&"'</name><evil/>]]><![CDATA[ x ]]>`;

const GUESTS: Record<string, GuestRequest> = {
  'x86_64 pc, iso9660': guestRequest(),
  'q35, iso9660': guestRequest({ request: spawnRequest({}, { hw_machine_type: 'q35' }) }),
  'aarch64, iso9660 on virtio-scsi': guestRequest({ request: spawnRequest({}, { hw_architecture: 'aarch64' }) }),
  'vfat with ephemeral and swap': guestRequest({ request: spawnRequest(WITH_EPHEMERAL_AND_SWAP), configDrive: 'vfat', images: ALL_DISK_IMAGES }),
  'vfat, hw_disk_bus=scsi, hw_scsi_model=lsilogic': guestRequest({
    request: spawnRequest({}, { hw_disk_bus: 'scsi', hw_scsi_model: 'lsilogic' }),
    configDrive: 'vfat',
  }),
  'direct kernel boot': guestRequest({ kernel: { kernel: `${DIR}/kernel`, ramdisk: `${DIR}/ramdisk` } }),
  'direct kernel boot, os_command_line, no ramdisk': guestRequest({
    request: spawnRequest({}, { os_command_line: 'console=ttyS0 panic=-1' }),
    kernel: { kernel: `${DIR}/kernel`, ramdisk: null },
  }),
  'ovs, bridge and os-vif-created ovs NICs': guestRequest({ request: spawnRequest({ network_info: NICS }, { hw_vif_model: 'e1000' }) }),
  'kvm, no config drive, no image, no numeric id': guestRequest({
    request: spawnRequest({ image_ref: null, id: null }),
    options: { ...guestRequest().options, virt_type: 'kvm' },
    configDrive: null,
  }),
  'hostile names everywhere': guestRequest({
    request: spawnRequest(
      {
        display_name: HOSTILE,
        system_metadata: { owner_user_name: `al"ice&<bob>`, owner_project_name: `]]>'` },
        flavor: { ...spawnRequest().instance.flavor, name: `m1."<&>'` },
      },
      { os_command_line: `root=/dev/vda init="/bin/sh -c 'echo <&>'"` },
    ),
    options: { ...guestRequest().options, instances_path: `/srv/nova & co/<'inst">` },
    kernel: { kernel: `/boot/vmlinuz-"&'<>`, ramdisk: null },
  }),
};

const render = (request: GuestRequest) => renderDomainXml(planGuest(request).guest);

describe('libvirt accepts the XML (virt-xml-validate FILE domain)', () => {
  test.each(Object.keys(GUESTS))('%s', async (label) => {
    await expect(virtXmlValidate(render(GUESTS[label]!))).resolves.toMatch(/validates/);
  });

  test('and the check can fail: a disk without a target does not validate', async () => {
    const broken = render(GUESTS['x86_64 pc, iso9660']!).replace(/<target dev="hda" bus="ide"\/>/, '');
    await expect(virtXmlValidate(broken)).rejects.toThrow(/fails to validate/);
  });
});

describe('the domain read back', () => {
  test('identity, memory, vcpus, os, lifecycle, features and clock', async () => {
    const domain = await parseDomain(render(GUESTS['x86_64 pc, iso9660']!));
    expect(domain.root.$).toEqual({ type: 'qemu' });
    expect([domain.text('name'), domain.text('uuid'), domain.text('memory'), domain.text('vcpu')]).toEqual([
      'instance-0000002a',
      UUID,
      String(2048 * 1024),
      '2',
    ]);
    expect(domain.attrs('memory')).toEqual({ unit: 'KiB' });
    expect(domain.text('os', 'type')).toBe('hvm');
    expect(domain.attrs('os', 'type')).toEqual({ arch: 'x86_64', machine: 'pc' });
    expect(domain.attrs('os', 'boot')).toEqual({ dev: 'hd' });
    expect(domain.all('os', 'kernel')).toEqual([]);
    expect([domain.text('on_poweroff'), domain.text('on_reboot'), domain.text('on_crash')]).toEqual(['destroy', 'restart', 'destroy']);
    expect(Object.keys(domain.all('features')[0]!)).toEqual(['acpi', 'apic']);
    expect(domain.attrs('clock')).toEqual({ offset: 'utc' });
    expect(domain.all('devices', 'emulator')).toEqual([]);
  });

  test('root disk and config drive cdrom, serial console to console.log', async () => {
    const domain = await parseDomain(render(GUESTS['x86_64 pc, iso9660']!));
    const [root, drive] = domain.all('devices', 'disk');
    expect(root!.$).toEqual({ type: 'file', device: 'disk' });
    expect(root!['driver']![0]!.$).toEqual({ name: 'qemu', type: 'qcow2', cache: 'none' });
    expect(root!['source']![0]!.$).toEqual({ file: `${DIR}/disk` });
    expect(root!['target']![0]!.$).toEqual({ dev: 'vda', bus: 'virtio' });
    expect(root!['readonly']).toBeUndefined();
    expect(drive!.$).toEqual({ type: 'file', device: 'cdrom' });
    expect(drive!['driver']![0]!.$).toEqual({ name: 'qemu', type: 'raw', cache: 'none' });
    expect(drive!['source']![0]!.$).toEqual({ file: `${DIR}/disk.config` });
    expect(drive!['target']![0]!.$).toEqual({ dev: 'hda', bus: 'ide' });
    expect(drive!['readonly']).toHaveLength(1);
    expect(domain.all('devices', 'controller')).toEqual([]);
    expect(domain.attrs('devices', 'serial')).toEqual({ type: 'file' });
    expect(domain.attrs('devices', 'serial', 'source')).toEqual({ path: `${DIR}/console.log` });
    expect(domain.attrs('devices', 'console', 'source')).toEqual({ path: `${DIR}/console.log` });
    expect(domain.attrs('devices', 'console', 'target')).toEqual({ type: 'serial', port: '0' });
  });

  test('q35: the cdrom is on SATA', async () => {
    const domain = await parseDomain(render(GUESTS['q35, iso9660']!));
    expect(domain.attrs('os', 'type')).toEqual({ arch: 'x86_64', machine: 'q35' });
    expect(domain.all('devices', 'disk').map((disk) => disk['target']![0]!.$)).toEqual([
      { dev: 'vda', bus: 'virtio' },
      { dev: 'sda', bus: 'sata' },
    ]);
  });

  test('aarch64: virt machine, the cdrom on SCSI unit 0 of a virtio-scsi controller', async () => {
    const domain = await parseDomain(render(GUESTS['aarch64, iso9660 on virtio-scsi']!));
    expect(domain.attrs('os', 'type')).toEqual({ arch: 'aarch64', machine: 'virt' });
    const drive = domain.all('devices', 'disk')[1]!;
    expect(drive['target']![0]!.$).toEqual({ dev: 'sda', bus: 'scsi' });
    expect(drive['address']![0]!.$).toEqual({ type: 'drive', controller: '0', bus: '0', target: '0', unit: '0' });
    expect(domain.all('devices', 'controller').map((controller) => controller.$)).toEqual([
      { type: 'scsi', index: '0', model: 'virtio-scsi' },
    ]);
  });

  test('vfat with ephemeral and swap: four virtio disks in Nova order, the drive a writable disk', async () => {
    const domain = await parseDomain(render(GUESTS['vfat with ephemeral and swap']!));
    expect(
      domain.all('devices', 'disk').map((disk) => [disk.$!['device'], disk['source']![0]!.$!['file'], disk['target']![0]!.$!['dev'], disk['driver']![0]!.$!['type']]),
    ).toEqual([
      ['disk', `${DIR}/disk`, 'vda', 'qcow2'],
      ['disk', `${DIR}/disk.local`, 'vdb', 'raw'],
      ['disk', `${DIR}/disk.swap`, 'vdc', 'raw'],
      ['disk', `${DIR}/disk.config`, 'vdd', 'raw'],
    ]);
    expect(domain.all('devices', 'disk').flatMap((disk) => disk['readonly'] ?? [])).toEqual([]);
  });

  test('an image hw_scsi_model other than virtio-scsi: that controller, and no unit addresses', async () => {
    const domain = await parseDomain(render(GUESTS['vfat, hw_disk_bus=scsi, hw_scsi_model=lsilogic']!));
    expect(domain.all('devices', 'controller').map((controller) => controller.$)).toEqual([{ type: 'scsi', index: '0', model: 'lsilogic' }]);
    expect(domain.all('devices', 'disk').map((disk) => [disk['target']![0]!.$, disk['address']])).toEqual([
      [{ dev: 'sda', bus: 'scsi' }, undefined],
      [{ dev: 'sdb', bus: 'scsi' }, undefined],
    ]);
  });

  test("direct kernel boot: kernel, initrd and Nova's command line, no boot device", async () => {
    const domain = await parseDomain(render(GUESTS['direct kernel boot']!));
    expect([domain.text('os', 'kernel'), domain.text('os', 'initrd'), domain.text('os', 'cmdline')]).toEqual([
      `${DIR}/kernel`,
      `${DIR}/ramdisk`,
      'root=/dev/vda console=tty0 console=ttyS0 console=hvc0 no_timer_check',
    ]);
    expect(domain.all('os', 'boot')).toEqual([]);
  });

  test('direct kernel boot: the image os_command_line replaces the default; no ramdisk, no <initrd>', async () => {
    const domain = await parseDomain(render(GUESTS['direct kernel boot, os_command_line, no ramdisk']!));
    expect(domain.text('os', 'cmdline')).toBe('console=ttyS0 panic=-1');
    expect(domain.all('os', 'initrd')).toEqual([]);
  });

  test('NICs: ovs bridge with virtualport, Linux bridge, taps for ports os-vif creates; MAC, model and MTU', async () => {
    const domain = await parseDomain(render(GUESTS['ovs, bridge and os-vif-created ovs NICs']!));
    const nics = domain.all('devices', 'interface').map((nic) => ({
      type: nic.$!['type'],
      mac: nic['mac']![0]!.$!['address'],
      model: nic['model']![0]!.$!['type'],
      mtu: nic['mtu']?.[0]!.$!['size'],
      bridge: nic['source']?.[0]!.$!['bridge'],
      target: nic['target']?.[0]!.$!['dev'],
      virtualport: nic['virtualport']?.[0]!.$!['type'],
      interfaceid: nic['virtualport']?.[0]!['parameters']![0]!.$!['interfaceid'],
    }));
    expect(nics).toEqual([
      { type: 'bridge', mac: 'fa:16:3e:00:00:01', model: 'e1000', mtu: '1450', bridge: 'br-int', target: 'tap11111111-00', virtualport: 'openvswitch', interfaceid: '11111111-0000-4000-8000-000000000001' },
      { type: 'bridge', mac: 'fa:16:3e:00:00:02', model: 'e1000', mtu: undefined, bridge: 'brq-1', target: 'tap22222222-00', virtualport: undefined, interfaceid: undefined },
      { type: 'ethernet', mac: 'fa:16:3e:00:00:03', model: 'e1000', mtu: '9000', bridge: undefined, target: 'tap33333333-00', virtualport: undefined, interfaceid: undefined },
      { type: 'ethernet', mac: 'fa:16:3e:00:00:04', model: 'e1000', mtu: '1450', bridge: undefined, target: 'nic44444444-00', virtualport: undefined, interfaceid: undefined },
    ]);
  });

  test("Nova's metadata, in Nova's namespace", async () => {
    const domain = await parseDomain(render(GUESTS['ovs, bridge and os-vif-created ovs NICs']!));
    const [instance] = domain.all('metadata', 'nova:instance');
    expect(instance!.$).toEqual({ 'xmlns:nova': NOVA_NS });
    expect(NOVA_NS).toBe('http://openstack.org/xmlns/libvirt/nova/1.1');
    expect(domain.attrs('metadata', 'nova:instance', 'nova:package')).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(domain.text('metadata', 'nova:instance', 'nova:name')).toBe('Web 01');
    expect(domain.text('metadata', 'nova:instance', 'nova:creationTime')).toBe('2024-05-06 07:08:09');
    const flavor = domain.all('metadata', 'nova:instance', 'nova:flavor')[0]!;
    expect(flavor.$).toEqual({ name: 'm1.small' });
    expect(['memory', 'disk', 'swap', 'ephemeral', 'vcpus'].map((field) => flavor[`nova:${field}`]![0])).toEqual(['2048', '20', '0', '0', '2']);
    const owner = domain.all('metadata', 'nova:instance', 'nova:owner')[0]!;
    expect([owner['nova:user']![0], owner['nova:project']![0]]).toEqual([
      { _: 'alice', $: { uuid: 'bead0000bead0000bead0000bead0000' } },
      { _: 'demo', $: { uuid: 'c0ffee00c0ffee00c0ffee00c0ffee00' } },
    ]);
    expect(domain.attrs('metadata', 'nova:instance', 'nova:root')).toEqual({ type: 'image', uuid: IMAGE_ID });
    expect(domain.all('metadata', 'nova:instance', 'nova:ports', 'nova:port').map((port) => [port.$!['uuid'], port['nova:ip']![0]!.$])).toEqual(
      NICS.map((nic) => [nic.id, { type: 'fixed', address: '10.0.0.5', ipVersion: '4' }]),
    );
  });

  test('kvm; without a numeric id the name is instance-<uuid>; no image: no nova:root; no drive: only the root disk', async () => {
    const domain = await parseDomain(render(GUESTS['kvm, no config drive, no image, no numeric id']!));
    expect(domain.root.$).toEqual({ type: 'kvm' });
    expect(domain.text('name')).toBe(`instance-${UUID}`);
    expect(domain.all('metadata', 'nova:instance', 'nova:root')).toEqual([]);
    expect(domain.all('devices', 'disk')).toHaveLength(1);
  });
});

describe('hostile strings are text, never markup', () => {
  // Bridge and tap names and MACs never get this far: the planner refuses what libvirt's schema refuses (guest-interfaces.test.ts).
  test('every hostile value reads back exactly as given', async () => {
    const request = GUESTS['hostile names everywhere']!;
    const xml = render(request);
    expect(xml).not.toContain('<evil/>');
    expect(xml).not.toContain('<![CDATA[');
    const domain = await parseDomain(xml);
    const dir = `/srv/nova & co/<'inst">/${UUID}`;
    expect(domain.text('metadata', 'nova:instance', 'nova:name')).toBe(HOSTILE);
    expect(domain.attrs('metadata', 'nova:instance', 'nova:flavor')).toEqual({ name: `m1."<&>'` });
    expect(domain.text('metadata', 'nova:instance', 'nova:owner', 'nova:user')).toBe(`al"ice&<bob>`);
    expect(domain.text('metadata', 'nova:instance', 'nova:owner', 'nova:project')).toBe(`]]>'`);
    expect(domain.text('os', 'kernel')).toBe(`/boot/vmlinuz-"&'<>`);
    expect(domain.text('os', 'cmdline')).toBe(`root=/dev/vda init="/bin/sh -c 'echo <&>'"`);
    expect(domain.all('devices', 'disk').map((disk) => disk['source']![0]!.$!['file'])).toEqual([`${INSTANCES_PATH}/${UUID}/disk`, `${dir}/disk.config`]);
    expect(domain.attrs('devices', 'serial', 'source')).toEqual({ path: `${dir}/console.log` });
    // One element of each: nothing was injected.
    expect(domain.all('name')).toHaveLength(1);
    expect(domain.all('metadata', 'nova:instance', 'nova:name')).toHaveLength(1);
  });

  test('characters XML cannot carry become U+FFFD; everything else, astral planes included, is kept', async () => {
    const name = 'a\u0000b\u0008c\u001fd\uFFFEe\uD800f\uDC00g \t\n\r h 😀 é';
    const xml = render(guestRequest({ request: spawnRequest({ display_name: name }) }));
    const domain = await parseDomain(xml);
    expect(domain.text('metadata', 'nova:instance', 'nova:name')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg \t\n\r h 😀 é');
  });
});
