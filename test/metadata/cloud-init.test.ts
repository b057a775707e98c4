/**
 * What cloud-init inside the guest gets from our drive: Debian's cloud-init reads the extracted tree with
 * ConfigDriveReader.read_v2() and turns network_data.json into its network config with convert_net_json().
 */
import { buildInstanceMetadata, toDriveTree } from '../../src/metadata/instance-metadata.js';
import type { JsonValue } from '../../src/metadata/python-json.js';
import { OPENSTACK_VERSIONS } from '../../src/metadata/versions.js';
import { base64Of, readWithCloudInit } from './cloud-init-reference.js';
import {
  bareRequest,
  countingSeeds,
  FULL_BLOCK_DEVICES,
  fixedIp,
  fullRequest,
  KEY,
  MAC_1,
  MAC_2,
  subnet,
  testOptions,
  USER_DATA,
  vif,
} from './fixtures.js';

const KNOWN_MACS = { [MAC_1]: 'ens3', [MAC_2]: 'ens4' };
const VENDOR_DATA = new Map<string, JsonValue>([
  ['cloud-init', '#cloud-config\npackages: [htop]\n'],
  ['site', 'lab-3'],
]);
const UUID = fullRequest().instance.uuid;

describe('cloud-init ConfigDriveReader.read_v2() on our tree', () => {
  test('full instance: identity, keys, user data, vendor data, files, random seed, EC2 data', async () => {
    const { randomSeed, seeds } = countingSeeds();
    const options = testOptions({ randomSeed, vendor_data: VENDOR_DATA });
    const tree = toDriveTree(buildInstanceMetadata(fullRequest(), options, FULL_BLOCK_DEVICES));
    const view = await readWithCloudInit(tree, KNOWN_MACS);

    // cloud-init takes the newest dated version it knows, so that directory must be complete on its own.
    expect(OPENSTACK_VERSIONS).toContain(view.version);
    const metadata = view.read_v2['metadata'] as Record<string, unknown>;
    expect(metadata['uuid']).toBe(UUID);
    expect(metadata['instance-id']).toBe(UUID);
    expect(metadata['hostname']).toBe('web-01.novalocal');
    expect(metadata['local-hostname']).toBe('web-01.novalocal');
    expect(view.public_ssh_keys).toEqual([KEY]);
    expect(metadata['admin_pass']).toBe('s3cr3t-P4ss');
    expect(metadata['meta']).toEqual({ role: 'web', tier: 'frontend' });
    const seedIndex = OPENSTACK_VERSIONS.indexOf(view.version as (typeof OPENSTACK_VERSIONS)[number]) - 1;
    expect(base64Of(metadata['random_seed'])).toEqual(Buffer.from(seeds[seedIndex]!));

    expect(base64Of(view.read_v2['userdata']).toString()).toBe(USER_DATA);
    expect(view.read_v2['vendordata']).toEqual(Object.fromEntries(VENDOR_DATA));
    expect(view.read_v2['vendordata2']).toEqual({ static: Object.fromEntries(VENDOR_DATA) });
    const files = view.read_v2['files'] as Record<string, unknown>;
    expect(Object.keys(files)).toEqual(['/etc/motd', '/root/blob.bin']);
    expect(base64Of(files['/etc/motd']).toString()).toBe('Welcome to web-01\n');
    expect(base64Of(files['/root/blob.bin'])).toEqual(Buffer.from([0, 1, 2, 0xfe, 0xff]));

    const ec2 = view.read_v2['ec2-metadata'] as Record<string, unknown>;
    expect(ec2['instance-id']).toBe('i-6f1c9a2e');
    expect(ec2['ami-id']).toBe('ami-1a2b3c4d');
    expect(ec2['local-ipv4']).toBe('10.0.0.5');
    expect(ec2['public-ipv4']).toBe('203.0.113.10');
    expect(ec2['block-device-mapping']).toEqual({
      ami: 'vda',
      root: '/dev/vda',
      ephemeral0: '/dev/vdb',
      swap: '/dev/vdc',
      ebs0: '/dev/vdd',
    });
  });

  test('full instance: convert_net_json gives static v4 with routes, SLAAC, DHCP, DHCPv6 and the DNS servers', async () => {
    const tree = toDriveTree(buildInstanceMetadata(fullRequest(), testOptions()));
    const view = await readWithCloudInit(tree, KNOWN_MACS);
    expect(view.network_config).toEqual({
      version: 1,
      config: [
        {
          type: 'physical',
          name: 'ens3',
          mac_address: MAC_1,
          mtu: 1450,
          subnets: [
            {
              type: 'static',
              ipv4: true,
              address: '10.0.0.5',
              netmask: '255.255.255.0',
              routes: [
                { network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.0.0.1' },
                { network: '192.168.128.0', netmask: '255.255.128.0', gateway: '10.0.0.254' },
              ],
            },
            {
              type: 'ipv6_slaac',
              netmask: 'ffff:ffff:ffff:ffff::',
              routes: [{ network: '::', netmask: '::', gateway: 'fe80::1' }],
            },
          ],
        },
        {
          type: 'physical',
          name: 'ens4',
          mac_address: MAC_2,
          // A DHCP subnet: the DHCP server sets the MTU.
          mtu: null,
          'accept-ra': true,
          subnets: [
            { type: 'dhcp4' },
            {
              type: 'ipv6_dhcpv6-stateful',
              netmask: 'ffff:ffff:ffff:ffff::',
              routes: [{ network: '::', netmask: '::', gateway: '2001:db8:2::1' }],
            },
          ],
        },
        { type: 'nameserver', address: '8.8.8.8' },
        { type: 'nameserver', address: '8.8.4.4' },
        { type: 'nameserver', address: '2001:4860:4860::8888' },
        { type: 'nameserver', address: '1.1.1.1' },
      ],
    });
  });

  test('bare instance: readable, with no user data, keys, files or network config', async () => {
    const view = await readWithCloudInit(toDriveTree(buildInstanceMetadata(bareRequest(), testOptions())), KNOWN_MACS);
    const metadata = view.read_v2['metadata'] as Record<string, unknown>;
    expect(metadata['uuid']).toBe(UUID);
    expect(view.public_ssh_keys).toEqual([]);
    expect(view.read_v2['userdata']).toBe('');
    expect(view.read_v2['files']).toEqual({});
    expect(view.read_v2['networkdata']).toEqual({});
    expect(view.read_v2['vendordata']).toEqual({});
    expect(view.network_config).toBeNull();
    expect((view.read_v2['ec2-metadata'] as Record<string, unknown>)['ami-id']).toBeNull();
  });

  test('an injected interfaces file reaches cloud-init as network_config', async () => {
    const request = fullRequest({
      network_info: [
        vif({
          networkMeta: { injected: true },
          subnets: [subnet({ cidr: '10.1.0.0/16', version: 4, gateway: { address: '10.1.0.1' }, ips: [fixedIp('10.1.2.3')] })],
        }),
      ],
    });
    const view = await readWithCloudInit(toDriveTree(buildInstanceMetadata(request, testOptions())), KNOWN_MACS);
    expect(view.read_v2['network_config']).toContain(
      `iface eth0 inet static\n    hwaddress ether ${MAC_1}\n    address 10.1.2.3\n    netmask 255.255.0.0\n` +
        '    broadcast 10.1.255.255\n    gateway 10.1.0.1\n',
    );
    expect(Object.keys(view.read_v2['files'] as object)).toEqual(['/etc/motd', '/root/blob.bin']);
  });
});
