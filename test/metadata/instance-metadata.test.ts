import { buildInstanceMetadata, toDriveTree } from '../../src/metadata/instance-metadata.js';
import { DEFAULT_METADATA_OPTIONS, MetadataOptionsError, validateMetadataOptions } from '../../src/metadata/options.js';
import { EC2_VERSION_DIRECTORIES, OPENSTACK_VERSION_DIRECTORIES } from '../../src/metadata/versions.js';
import { bareRequest, countingSeeds, fullRequest, testOptions, USER_DATA } from './fixtures.js';
import { runPython } from './python.js';

const OPENSTACK_FILES_FULL = [
  ['2012-08-10', ['meta_data.json', 'user_data']],
  ['2013-04-04', ['meta_data.json', 'user_data']],
  ['2013-10-17', ['meta_data.json', 'user_data', 'vendor_data.json']],
  ['2015-10-15', ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json']],
  ['2016-06-30', ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json']],
  ['2016-10-06', ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json', 'vendor_data2.json']],
  ['2017-02-22', ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json', 'vendor_data2.json']],
  ['2018-08-27', ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json', 'vendor_data2.json']],
  ['2020-10-14', ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json', 'vendor_data2.json']],
  ['latest', ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json', 'vendor_data2.json']],
] as const;

describe('the config drive tree', () => {
  test('full instance, default options: EC2 2009-04-04 and latest, every OpenStack version, content/', () => {
    const tree = toDriveTree(buildInstanceMetadata(fullRequest(), testOptions()));
    expect([...tree.keys()]).toEqual([
      'ec2/2009-04-04/user-data',
      'ec2/2009-04-04/meta-data.json',
      'ec2/latest/user-data',
      'ec2/latest/meta-data.json',
      ...OPENSTACK_FILES_FULL.flatMap(([version, files]) => files.map((file) => `openstack/${version}/${file}`)),
      'openstack/content/0000',
      'openstack/content/0001',
    ]);
    expect(Buffer.from(tree.get('openstack/2012-08-10/user_data')!).toString()).toBe(USER_DATA);
    expect(Buffer.from(tree.get('ec2/latest/user-data')!).toString()).toBe(USER_DATA);
    expect(Buffer.from(tree.get('openstack/content/0000')!).toString()).toBe('Welcome to web-01\n');
  });

  test('bare instance: no user data files, network_data.json is {}', () => {
    const tree = toDriveTree(buildInstanceMetadata(bareRequest(), testOptions()));
    expect([...tree.keys()].filter((path) => /user[-_]data$|content/.test(path))).toEqual([]);
    expect(Buffer.from(tree.get('openstack/latest/network_data.json')!).toString()).toBe('{}');
  });

  test('config_drive_skip_versions picks EC2 directories, latest included', () => {
    const tree = toDriveTree(buildInstanceMetadata(bareRequest(), testOptions({ config_drive_skip_versions: ['1.0', 'latest'] })));
    const ec2 = [...tree.keys()].filter((path) => path.startsWith('ec2/')).map((path) => path.split('/')[1]);
    expect(ec2).toEqual(EC2_VERSION_DIRECTORIES.filter((version) => version !== '1.0' && version !== 'latest'));
  });

  test('no vendordata provider: no vendor_data.json anywhere (Nova would fail the drive)', () => {
    const tree = toDriveTree(buildInstanceMetadata(fullRequest(), testOptions({ vendordata_providers: [] })));
    expect([...tree.keys()].filter((path) => path.endsWith('/vendor_data.json'))).toEqual([]);
    expect(Buffer.from(tree.get('openstack/latest/vendor_data2.json')!).toString()).toBe('{}');
  });

  test('one random seed per meta_data.json that has one, latest included', () => {
    const { randomSeed, seeds } = countingSeeds();
    const metadata = buildInstanceMetadata(fullRequest(), testOptions({ randomSeed }));
    expect(seeds).toHaveLength(OPENSTACK_VERSION_DIRECTORIES.length - 1);
    const seedOf = (version: string) =>
      JSON.parse(Buffer.from(metadata.openstack.get(version as 'latest')!.get('meta_data.json')!).toString()).random_seed as string;
    expect(seedOf('latest')).not.toBe(seedOf('2020-10-14'));
    expect(Buffer.from(seedOf('latest'), 'base64')).toEqual(Buffer.from(seeds[seeds.length - 1]!));
  });
});

describe('the metadata object the HTTP service serves from', () => {
  test('holds every EC2 version, skipped or not, with the tree the EC2 API walks', () => {
    const metadata = buildInstanceMetadata(fullRequest(), testOptions());
    expect([...metadata.ec2.keys()]).toEqual(EC2_VERSION_DIRECTORIES);
    expect(metadata.ec2.get('1.0')!.meta_data['public-keys']).toEqual({ '0': expect.objectContaining({ _name: '0=alice' }) });
    expect([...metadata.openstack.keys()]).toEqual(OPENSTACK_VERSION_DIRECTORIES);
    expect(metadata.uuid).toBe(fullRequest().instance.uuid);
  });

  test('leaves out what only the drive has: admin_pass, files and their content/, with the drive\'s random_seed', () => {
    const metadata = buildInstanceMetadata(fullRequest(), testOptions());
    const drive = toDriveTree(metadata);
    const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString()) as Record<string, unknown>;
    for (const version of OPENSTACK_VERSION_DIRECTORIES) {
      const { admin_pass: adminPass, files, ...rest } = json(drive.get(`openstack/${version}/meta_data.json`)!);
      expect([version, adminPass, (files as unknown[]).length]).toEqual([version, 's3cr3t-P4ss', 2]);
      expect([version, json(metadata.openstack.get(version)!.get('meta_data.json')!)]).toEqual([version, rest]);
    }
    expect([...metadata.content.keys()]).toEqual([]);
    expect([...drive.keys()].filter((path) => path.startsWith('openstack/content/'))).toEqual(['openstack/content/0000', 'openstack/content/0001']);
  });

  test('is built once: the drive and a second look at it give the same bytes', () => {
    const metadata = buildInstanceMetadata(fullRequest(), { ...DEFAULT_METADATA_OPTIONS });
    const first = toDriveTree(metadata);
    const second = toDriveTree(metadata);
    expect([...first.entries()]).toEqual([...second.entries()]);
  });
});

describe('options', () => {
  test('a provider other than StaticJSON is refused, naming the option and the value', () => {
    const options = testOptions({ vendordata_providers: ['StaticJSON', 'DynamicJSON'] });
    expect(() => validateMetadataOptions(options)).toThrow(MetadataOptionsError);
    expect(() => buildInstanceMetadata(fullRequest(), options)).toThrow('[api] vendordata_providers = "DynamicJSON"');
  });

  test('defaults are Nova 26\'s [api] defaults', async () => {
    const script =
      'import json, nova.conf\n' +
      'CONF = nova.conf.CONF\n' +
      "CONF([], project='nova', default_config_files=[])\n" +
      'print(json.dumps([CONF.api.dhcp_domain, CONF.api.config_drive_skip_versions.split(), CONF.api.vendordata_providers]))';
    const [dhcpDomain, skipVersions, providers] = JSON.parse(await runPython(['-c', script], null)) as unknown[];
    expect(DEFAULT_METADATA_OPTIONS.dhcp_domain).toBe(dhcpDomain);
    expect(DEFAULT_METADATA_OPTIONS.config_drive_skip_versions).toEqual(skipVersions);
    expect(DEFAULT_METADATA_OPTIONS.vendordata_providers).toEqual(providers);
    expect(DEFAULT_METADATA_OPTIONS.vendor_data).toBeNull();
    expect(DEFAULT_METADATA_OPTIONS.randomSeed()).toHaveLength(512);
  });
});
