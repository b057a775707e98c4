/**
 * Our config drive tree against the one Nova's own code (python3-nova's InstanceMetadata and
 * metadata_for_config_drive) builds from the same instance: same paths, same order, same bytes. The random
 * seeds are not masked: Nova's os.urandom is made to return the seeds our side drew.
 */
import { NO_BLOCK_DEVICES, type BlockDevices } from '../../src/metadata/block-device-mapping.js';
import { buildInstanceMetadata, toDriveTree } from '../../src/metadata/instance-metadata.js';
import { ec2IdsFromUuids } from '../../src/metadata/ec2-ids.js';
import { EC2_VERSIONS } from '../../src/metadata/versions.js';
import { DEFAULT_METADATA_OPTIONS } from '../../src/metadata/options.js';
import { parseVendorDataFile } from '../../src/metadata/vendor-data.js';
import type { SpawnRequest } from '../../src/nova/spawn-request.js';
import {
  bareRequest,
  countingSeeds,
  fixedIp,
  FULL_BLOCK_DEVICES,
  fullRequest,
  MAC_1,
  MAC_2,
  STATIC_VIF,
  subnet,
  vif,
} from './fixtures.js';
import { novaConfigDrive } from './nova-reference.js';

const KEY_WITH_COMMENT = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 clé@hôte';

interface Case {
  request: SpawnRequest;
  dhcp_domain?: string;
  config_drive_skip_versions?: readonly string[];
  vendordata_providers?: readonly string[];
  vendordata_json?: string | null;
  blockDevices?: BlockDevices;
}

const VENDOR_JSON =
  '{"cloud-init": "#cloud-config\\npackages: [htop]", "ratio": 1.0, "tiny": 1e-7, "big": 12345678901234567890, ' +
  '"nested": {"z": [true, false, null], "a": "caf\\u00e9 \\ud83d\\ude00 </script>"}, "10": "integer-like key stays here"}';

async function compareWithNova(testCase: Case): Promise<Map<string, Buffer>> {
  const { randomSeed, seeds } = countingSeeds();
  const options = {
    ...DEFAULT_METADATA_OPTIONS,
    dhcp_domain: testCase.dhcp_domain ?? 'novalocal',
    config_drive_skip_versions: testCase.config_drive_skip_versions ?? DEFAULT_METADATA_OPTIONS.config_drive_skip_versions,
    vendordata_providers: testCase.vendordata_providers ?? ['StaticJSON'],
    vendor_data: testCase.vendordata_json ? parseVendorDataFile('/etc/nova/vendor_data.json', testCase.vendordata_json) : null,
    randomSeed,
  };
  const blockDevices = testCase.blockDevices ?? NO_BLOCK_DEVICES;
  const ours = toDriveTree(buildInstanceMetadata(testCase.request, options, blockDevices));
  const nova = await novaConfigDrive({
    request: testCase.request,
    dhcp_domain: options.dhcp_domain,
    config_drive_skip_versions: options.config_drive_skip_versions,
    vendordata_providers: options.vendordata_providers,
    vendordata_json: testCase.vendordata_json ?? null,
    blockDevices,
    ec2Ids: ec2IdsFromUuids(testCase.request.instance),
    randomSeeds: seeds,
  });

  expect(nova.urandomCalls).toBe(seeds.length);
  expect([...ours.keys()]).toEqual(nova.files.map(([path]) => path));
  for (const [path, data] of nova.files) {
    // Compared as text first so that a difference shows where it is.
    expect({ path, text: Buffer.from(ours.get(path)!).toString('latin1') }).toEqual({ path, text: data.toString('latin1') });
  }
  return new Map(nova.files);
}

describe('config drive tree vs Nova 26 InstanceMetadata.metadata_for_config_drive()', () => {
  test('full instance: user data, key pair, metadata, 2 injected files, admin pass, 2 VIFs, vendor data', async () => {
    const nova = await compareWithNova({
      request: fullRequest(),
      vendordata_json: VENDOR_JSON,
      blockDevices: FULL_BLOCK_DEVICES,
    });
    // The comparison covered what the case is about.
    const latest = JSON.parse(nova.get('openstack/latest/meta_data.json')!.toString()) as Record<string, unknown>;
    expect(latest['admin_pass']).toBe('s3cr3t-P4ss');
    expect(nova.get('openstack/content/0001')).toEqual(Buffer.from([0, 1, 2, 0xfe, 0xff]));
    expect(nova.get('openstack/latest/network_data.json')!.toString()).toContain('ipv6_slaac');
    expect(nova.get('openstack/latest/vendor_data2.json')!.toString()).toContain('12345678901234567890');
  });

  test('bare instance: no user data, key, network, files, password, image or root device name', async () => {
    const nova = await compareWithNova({ request: bareRequest() });
    expect(nova.get('openstack/latest/network_data.json')!.toString()).toBe('{}');
    expect(nova.has('openstack/latest/user_data')).toBe(false);
  });

  test('non-ASCII display name, metadata, key name, file path and password', async () => {
    const request = fullRequest({
      display_name: 'Sérveur «prod» 😀 — 東京',
      metadata: { 'clé': 'valeur é', emoji: '🚀', quote: '"</script>\\', control: 'a\tb\nc\u0001\u007f' },
      key_name: 'clé',
      keypairs: [{ name: 'clé', type: 'ssh', public_key: KEY_WITH_COMMENT }],
      key_data: KEY_WITH_COMMENT,
    });
    request.admin_password = 'pässwörd';
    request.injected_files = [{ path: '/etc/motd-ü', contents: Buffer.from('héllo\n') }];
    await compareWithNova({ request });
  });

  test.each([
    ['empty (bare hostname)', ''],
    ['custom', 'cloud.example.org'],
  ])('dhcp_domain %s', async (_label, dhcpDomain) => {
    const nova = await compareWithNova({ request: fullRequest(), dhcp_domain: dhcpDomain });
    const expected = dhcpDomain ? `web-01.${dhcpDomain}` : 'web-01';
    expect(JSON.parse(nova.get('openstack/latest/meta_data.json')!.toString()).hostname).toBe(expected);
  });

  test('every EC2 version, kernel and ramdisk ids, ephemeral, swap and volumes', async () => {
    const request = fullRequest({
      kernel_id: 'aaaa1111-0000-4000-8000-000000000001',
      ramdisk_id: 'bbbb2222-0000-4000-8000-000000000002',
    });
    const nova = await compareWithNova({ request, config_drive_skip_versions: [], blockDevices: FULL_BLOCK_DEVICES });
    expect(nova.has('ec2/1.0/meta-data.json')).toBe(true);
    expect([...nova.keys()].filter((path) => path.endsWith('meta-data.json'))).toHaveLength(EC2_VERSIONS.length + 1);
  });

  test('skip list including latest and a mid version', async () => {
    await compareWithNova({ request: fullRequest(), config_drive_skip_versions: ['latest', '2007-08-29'] });
  });

  test('tagged devices across versions: vlan, vf_trusted, untagged NICs, bus-less disks; pinned CPUs', async () => {
    const request = fullRequest({
      device_metadata: [
        { type: 'nic', bus: 'pci', address: '0000:00:03.0', mac: MAC_1, vf_trusted: false, tags: ['frontend'] },
        { type: 'nic', bus: 'pci', address: '0000:81:10.2', mac: MAC_2, vlan: 1000, vf_trusted: true, tags: [] },
        { type: 'nic', bus: 'usb', address: '1:2', mac: 'fa:16:3e:00:00:03', tags: [] },
        { type: 'disk', bus: 'ide', address: '0:1', serial: 'vol-1', path: '/dev/hdb', tags: ['db'] },
        { type: 'disk', bus: 'none', address: 'none', tags: ['bare'] },
        { type: 'disk', bus: 'xen', address: '51712', serial: 'vol-2', tags: ['xen'] },
      ],
      dedicated_cpus: [7, 3, 5, 12],
    });
    await compareWithNova({ request });
  });

  test('network variants: dhcpv6-stateless, no gateway, VIF without subnets, phy link, DHCP without MTU, duplicate DNS', async () => {
    const request = fullRequest({
      network_info: [
        vif({ id: 'no-subnets', subnets: [] }),
        vif({
          id: 'stateless',
          type: 'binding_failed',
          devname: '',
          networkMeta: {},
          subnets: [
            subnet({
              cidr: '2001:db8:3::/56',
              version: 6,
              ips: [fixedIp('2001:db8:3::abcd')],
              dns: [{ address: '2001:db8:3::53' }, { address: '2001:db8:3::53' }],
              routes: [{ cidr: '2001:db8:ff00::/40', gateway: { address: '2001:db8:3::1' } }],
              meta: { ipv6_address_mode: 'dhcpv6-stateless' },
            }),
            subnet({ cidr: '2001:db8:4::/64', version: 6, ips: [fixedIp('2001:db8:4::1')] }),
          ],
        }),
        vif({
          id: 'v4-no-ips',
          type: 'bridge',
          subnets: [subnet({ cidr: '192.0.2.0/28', version: 4, meta: { dhcp_server: '192.0.2.2' } })],
        }),
        STATIC_VIF,
      ],
    });
    await compareWithNova({ request });
  });

  test('injected network template (network meta injected) comes first in content/', async () => {
    const injected = (fields: Parameters<typeof vif>[0]) => vif({ ...fields, networkMeta: { mtu: 1500, injected: true } });
    const request = fullRequest({
      network_info: [
        injected({
          subnets: [
            subnet({
              cidr: '198.51.100.6/31',
              version: 4,
              ips: [fixedIp('198.51.100.7')],
              dns: [{ address: '9.9.9.9' }, { address: '149.112.112.112' }],
            }),
            subnet({ cidr: '2001:db8:5::/64', version: 6, gateway: { address: '2001:db8:5::1' }, ips: [fixedIp('2001:db8:5::7')] }),
          ],
        }),
        vif({ id: 'not-injected', subnets: STATIC_VIF.network.subnets }),
        injected({ id: 'dhcp', subnets: [subnet({ cidr: '10.9.0.0/16', version: 4, ips: [fixedIp('10.9.0.9')], meta: { dhcp_server: '10.9.0.1' } })] }),
        injected({
          id: 'v4-only',
          address: MAC_2,
          subnets: [subnet({ cidr: '10.1.0.0/16', version: 4, gateway: { address: '10.1.0.1' }, ips: [fixedIp('10.1.2.3')] })],
        }),
      ],
    });
    const nova = await compareWithNova({ request });
    expect(nova.get('openstack/content/0000')!.toString()).toContain('iface eth3 inet static');
    expect(JSON.parse(nova.get('openstack/latest/meta_data.json')!.toString()).files[0].content_path).toBe('/content/0001');
  });

  test('vendor data providers listed twice; no vendordata file', async () => {
    await compareWithNova({ request: fullRequest(), vendordata_providers: ['StaticJSON', 'StaticJSON'] });
  });
});
