import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ConfigError, ConfigFileError } from '../../src/config/config-error.js';
import { IniParseError } from '../../src/config/ini.js';
import { loadConfig } from '../../src/config/load.js';
import { renderEffective } from '../../src/config/render.js';
import { allOptions, type KsaAdapterOptions, type KsaAuthOptions, type NovaConfig } from '../../src/config/schema.js';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const helpers = new URL('../helpers/', import.meta.url).pathname;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function load(...texts: string[]): ReturnType<typeof loadConfig> {
  return loadConfig(texts.map((text, i) => file(`${i}.conf`, text)));
}

function problemsOf(action: () => unknown): ConfigError['problems'] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** The IPv4 address of the interface the default route leaves by, as ip(8) shows them. */
function defaultRouteAddress(): string {
  const device = /\bdev (\S+)/.exec(execFileSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' }))![1]!;
  return /inet (\d+\.\d+\.\d+\.\d+)/.exec(execFileSync('ip', ['-4', 'addr', 'show', 'dev', device], { encoding: 'utf8' }))![1]!;
}

describe('defaults', () => {
  // keystoneauth 5 (loading/conf.py, the password and admin_token plugins): every one unset.
  const auth: KsaAuthOptions = {
    auth_type: null,
    auth_url: null,
    username: null,
    user_id: null,
    user_domain_name: null,
    user_domain_id: null,
    password: null,
    project_name: null,
    project_id: null,
    project_domain_name: null,
    project_domain_id: null,
    endpoint: null,
    token: null,
  };
  // keystoneauth's Adapter options with Nova's defaults (nova/conf/utils.py get_ksa_adapter_opts).
  const adapter = (service_type: string): KsaAdapterOptions => ({
    service_type,
    service_name: null,
    valid_interfaces: ['internal', 'public'],
    region_name: null,
    endpoint_override: null,
  });
  // Written out by hand from Nova 26 / oslo.messaging 14 (nova/conf/*.py), not copied from the schema.
  const expected: NovaConfig = {
    DEFAULT: {
      host: os.hostname(),
      state_path: '/var/lib/nova',
      instances_path: '/var/lib/nova/instances',
      transport_url: 'rabbit://',
      control_exchange: 'nova',
      force_config_drive: false,
      config_drive_format: 'iso9660',
      mkisofs_cmd: 'genisoimage',
      default_ephemeral_format: null,
      max_concurrent_builds: 10,
      vif_plugging_timeout: 300,
      vif_plugging_is_fatal: true,
      flat_injected: false,
      graceful_shutdown_timeout: 60,
      my_ip: defaultRouteAddress(),
      rpc_response_timeout: 60,
      report_interval: 10,
      enable_new_services: true,
      update_resources_interval: 0,
      shutdown_timeout: 60,
      sync_power_state_interval: 600,
      running_deleted_instance_action: 'reap',
      running_deleted_instance_poll_interval: 1800,
      running_deleted_instance_timeout: 0,
      cpu_allocation_ratio: null,
      initial_cpu_allocation_ratio: 16.0,
      ram_allocation_ratio: null,
      initial_ram_allocation_ratio: 1.5,
      disk_allocation_ratio: null,
      initial_disk_allocation_ratio: 1.0,
      reserved_host_cpus: 0,
      reserved_host_memory_mb: 512,
      reserved_host_disk_mb: 0,
      enabled_apis: ['osapi_compute', 'metadata'],
      metadata_listen: '0.0.0.0',
      metadata_listen_port: 8775,
      debug: false,
      log_date_format: '%Y-%m-%d %H:%M:%S',
      log_file: null,
      log_dir: null,
      use_journal: false,
      use_json: false,
      use_stderr: false,
      logging_context_format_string:
        '%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(global_request_id)s %(request_id)s %(user_identity)s] %(instance)s%(message)s',
      logging_default_format_string: '%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s',
      logging_debug_format_suffix: '%(funcName)s %(pathname)s:%(lineno)d',
      logging_exception_prefix: '%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s',
      logging_user_identity_format: '%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s',
      default_log_levels: [
        'amqp=WARN', 'amqplib=WARN', 'boto=WARN', 'qpid=WARN', 'sqlalchemy=WARN', 'suds=INFO', 'oslo.messaging=INFO', 'oslo_messaging=INFO',
        'iso8601=WARN', 'requests.packages.urllib3.connectionpool=WARN', 'urllib3.connectionpool=WARN', 'websocket=WARN',
        'requests.packages.urllib3.util.retry=WARN', 'urllib3.util.retry=WARN', 'keystonemiddleware=WARN', 'routes.middleware=WARN',
        'stevedore=WARN', 'taskflow=WARN', 'keystoneauth=WARN', 'oslo.cache=INFO', 'oslo_policy=INFO', 'dogpile.core.dogpile=INFO',
      ],
      instance_uuid_format: '[instance: %(uuid)s] ',
    },
    api: {
      config_drive_skip_versions: '1.0 2007-01-19 2007-03-01 2007-08-29 2007-10-10 2007-12-15 2008-02-01 2008-09-01',
      dhcp_domain: 'novalocal',
      vendordata_providers: ['StaticJSON'],
      vendordata_jsonfile_path: null,
      use_forwarded_for: false,
    },
    compute: { shutdown_retry_interval: 10 },
    libvirt: { virt_type: 'kvm', connection_uri: '', hw_machine_type: [], disk_prefix: null, disk_cachemodes: [], wait_soft_reboot_seconds: 120 },
    placement: { ...auth, ...adapter('placement') },
    glance: { api_servers: [], ...adapter('image') },
    neutron: { service_metadata_proxy: false, metadata_proxy_shared_secret: '', ovs_bridge: 'br-int', extension_sync_interval: 600, ...auth, ...adapter('network') },
    service_user: { send_service_user_token: false, ...auth },
    notifications: { notification_format: 'unversioned', versioned_notifications_topics: ['versioned_notifications'] },
    oslo_messaging_notifications: { driver: [], topics: ['notifications'], transport_url: null },
    oslo_messaging_rabbit: {
      rabbit_qos_prefetch_count: 0,
      heartbeat_timeout_threshold: 60,
      heartbeat_rate: 2,
      rabbit_quorum_queue: false,
      amqp_durable_queues: false,
      amqp_auto_delete: false,
      ssl: false,
      ssl_ca_file: '',
      ssl_cert_file: '',
      ssl_key_file: '',
    },
    nova_spawnd: { metrics_enabled: true, metrics_listen: '127.0.0.1', metrics_listen_port: 9779, dead_letter_max_length: 10000 },
  };

  test.each(allOptions().map(({ section, name }) => [section, name]))('[%s] %s', (section, name) => {
    const { config } = load('');
    const actual = (config as unknown as Record<string, Record<string, unknown>>)[section]![name];
    const wanted = (expected as unknown as Record<string, Record<string, unknown>>)[section]![name];
    expect(actual).toEqual(wanted);
  });

  test('the test table covers every option and nothing else', () => {
    const { config } = load('');
    expect(config).toEqual(expected);
  });

  test('no file at all still gives the defaults, and says nothing was read', () => {
    const loaded = loadConfig([join(dir, 'absent.conf')], { optional: true });
    expect(loaded.files).toEqual([]);
    expect(loaded.config.DEFAULT.max_concurrent_builds).toBe(10);
  });
});

describe('oslo.config value syntax', () => {
  test.each([
    ['True', true],
    ['true', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    ['YES', true],
    ['False', false],
    ['false', false],
    ['0', false],
    ['no', false],
    ['off', false],
  ])('boolean %s', (raw, value) => {
    expect(load(`[DEFAULT]\nforce_config_drive = ${raw}\n`).config.DEFAULT.force_config_drive).toBe(value);
  });

  test.each([
    ['', []],
    ['osapi_compute', ['osapi_compute']],
    ['metadata , osapi_compute', ['metadata', 'osapi_compute']],
  ])('list %j', (raw, value) => {
    expect(load(`[DEFAULT]\nenabled_apis = ${raw}\n`).config.DEFAULT.enabled_apis).toEqual(value);
  });

  test('continuation lines join a multi-line list', () => {
    const { config } = load('[glance]\napi_servers = http://a:9292,\n  http://b:9292\n');
    expect(config.glance.api_servers).toEqual(['http://a:9292', 'http://b:9292']);
  });

  test('quotes are stripped, # and ; comment whole lines only, key: value works', () => {
    const { config } = load(
      '# comment\n; comment\n[neutron]\nmetadata_proxy_shared_secret = "a #b ;c"\n[api]\ndhcp_domain: example.org\n',
    );
    expect(config.neutron.metadata_proxy_shared_secret).toBe('a #b ;c');
    expect(config.api.dhcp_domain).toBe('example.org');
  });

  test('section names other than DEFAULT are case-insensitive', () => {
    expect(load('[LIBVIRT]\nvirt_type = qemu\n').config.libvirt.virt_type).toBe('qemu');
  });

  test('a repeated key: the last value wins, except for a multi-valued option, which keeps every value', () => {
    const { config } = load(
      '[DEFAULT]\nmax_concurrent_builds = 1\nmax_concurrent_builds = 2\n[oslo_messaging_notifications]\ndriver = messagingv2\ndriver = log\n',
    );
    expect(config.DEFAULT.max_concurrent_builds).toBe(2);
    expect(config.oslo_messaging_notifications.driver).toEqual(['messagingv2', 'log']);
  });

  test('an empty value unsets an optional string', () => {
    expect(load('[api]\nvendordata_jsonfile_path =\n').config.api.vendordata_jsonfile_path).toBeNull();
  });
});

describe('interpolation', () => {
  test('$state_path reaches the default of instances_path', () => {
    expect(load('[DEFAULT]\nstate_path = /srv/nova\n').config.DEFAULT.instances_path).toBe('/srv/nova/instances');
  });

  test('${section.option}, a bare name from another section falls back to DEFAULT, $$ and \\$ are literal', () => {
    const { config } = load(
      [
        '[DEFAULT]',
        'host = node1',
        'state_path = /srv/${api.dhcp_domain}',
        '[api]',
        "dhcp_domain = ${host}.example",
        'vendordata_jsonfile_path = /etc/nova/$$vendor-\\$x.json',
      ].join('\n'),
    );
    expect(config.api.dhcp_domain).toBe('node1.example');
    expect(config.DEFAULT.state_path).toBe('/srv/node1.example');
    expect(config.DEFAULT.instances_path).toBe('/srv/node1.example/instances');
    expect(config.api.vendordata_jsonfile_path).toBe('/etc/nova/$vendor-$x.json');
  });

  test('an option of the same section wins over DEFAULT', () => {
    const { config } = load('[neutron]\nmetadata_proxy_shared_secret = $service_metadata_proxy\n');
    expect(config.neutron.metadata_proxy_shared_secret).toBe('false');
  });

  test('a reference to an unknown option or a cycle is an error naming the option', () => {
    expect(problemsOf(() => load('[DEFAULT]\nstate_path = $nowhere/x\n'))).toEqual([
      expect.objectContaining({ section: 'DEFAULT', option: 'state_path', value: '$nowhere/x', reason: expect.stringContaining('$nowhere') }),
    ]);
    const cycle = problemsOf(() => load('[DEFAULT]\nstate_path = $instances_path\n'));
    expect(cycle.map((p) => p.option)).toContain('state_path');
    expect(cycle[0]!.reason).toMatch(/refers back to itself/);
  });
});

describe('several files', () => {
  test('later files override earlier ones, option by option, and multi values add up', () => {
    const loaded = loadConfig([join(fixtures, 'nova.conf'), join(fixtures, 'nova-override.conf')]);
    const { config } = loaded;
    expect(config.DEFAULT.max_concurrent_builds).toBe(4);
    expect(config.DEFAULT.config_drive_format).toBe('vfat');
    expect(config.DEFAULT.state_path).toBe('/srv/nova');
    // The override's template sees the first file's state_path.
    expect(config.DEFAULT.instances_path).toBe('/srv/nova/guests');
    // As oslo does it: per file, the deprecated [DEFAULT] notification_driver first.
    expect(config.oslo_messaging_notifications.driver).toEqual(['messagingv2', 'messaging', 'log']);
    expect(loaded.explicitlySet.has('DEFAULT.config_drive_format')).toBe(true);
    expect(loaded.explicitlySet.has('DEFAULT.mkisofs_cmd')).toBe(false);
  });

  test('a named file that does not exist is an error', () => {
    expect(() => loadConfig([join(dir, 'missing.conf')])).toThrow(ConfigFileError);
  });
});

describe("an operator's real nova.conf", () => {
  test('loads, with one warning per file listing what we ignore, and deprecated names honoured', () => {
    const loaded = loadConfig([join(fixtures, 'nova.conf')]);
    expect(loaded.config.DEFAULT.host).toBe('compute-01.example.org');
    expect(loaded.config.api.dhcp_domain).toBe('cloud.example.org');
    expect(loaded.config.libvirt.hw_machine_type).toEqual(['x86_64=q35', 'aarch64=virt']);
    expect(loaded.config.neutron.metadata_proxy_shared_secret).toBe('metadata secret');
    const ignored = loaded.warnings.find((w) => w.includes('ignoring options'));
    expect(ignored).toContain('[DEFAULT] compute_driver;');
    expect(loaded.config.DEFAULT.log_dir).toBe('/var/log/nova');
    expect(ignored).toContain('[vnc] (whole section)');
    expect(ignored).toContain('[libvirt] images_type, cpu_mode');
    expect(loaded.warnings.some((w) => /\[DEFAULT\] dhcp_domain is deprecated: use \[api\] dhcp_domain/.test(w))).toBe(true);
  });

  test('gives the same values as oslo.config with Nova\'s own option definitions', () => {
    const files = [join(fixtures, 'nova.conf'), join(fixtures, 'nova-override.conf')];
    const ours = loadConfig(files).config as unknown as Record<string, Record<string, unknown>>;
    // [nova_spawnd] is ours alone: oslo knows nothing of it.
    const options = allOptions().filter(({ section }) => section !== 'nova_spawnd').map(({ section, name }) => [section, name]);
    const args = files.flatMap((f) => ['--config-file', f]);
    const theirs = JSON.parse(
      execFileSync('/usr/bin/python3', [join(helpers, 'oslo_config_values.py'), ...args], { input: JSON.stringify(options) }).toString(),
    ) as Record<string, Record<string, unknown>>;
    for (const [section, name] of options as [string, string][]) {
      // oslo reports an unset optional string as null and we do too; lists and booleans compare as JSON.
      expect({ [`${section}.${name}`]: ours[section]![name] }).toEqual({ [`${section}.${name}`]: theirs[section]![name] });
    }
  });
});

describe('bad values name the file, line, section, option and value', () => {
  test.each([
    ['[DEFAULT]\nforce_config_drive = maybe\n', 'DEFAULT', 'force_config_drive', 'maybe', /boolean/],
    ['[DEFAULT]\nconfig_drive_format = udf\n', 'DEFAULT', 'config_drive_format', 'udf', /"iso9660", "vfat"/],
    ['[DEFAULT]\nmax_concurrent_builds = -1\n', 'DEFAULT', 'max_concurrent_builds', '-1', /at least 0/],
    ['[DEFAULT]\nmax_concurrent_builds = ten\n', 'DEFAULT', 'max_concurrent_builds', 'ten', /integer/],
    ['[DEFAULT]\nmetadata_listen_port = 70000\n', 'DEFAULT', 'metadata_listen_port', '70000', /between 0 and 65535/],
    ['[DEFAULT]\ncpu_allocation_ratio = lots\n', 'DEFAULT', 'cpu_allocation_ratio', 'lots', /a number of at least 0, or nothing/],
    ['[DEFAULT]\ncpu_allocation_ratio = -1.5\n', 'DEFAULT', 'cpu_allocation_ratio', '-1.5', /at least 0/],
    ['[DEFAULT]\ninitial_ram_allocation_ratio = \n', 'DEFAULT', 'initial_ram_allocation_ratio', '', /a number of at least 0$/],
    ['[DEFAULT]\nram_allocation_ratio = nan\n', 'DEFAULT', 'ram_allocation_ratio', 'nan', /a number/],
    ['[DEFAULT]\nhost = bad host!\n', 'DEFAULT', 'host', 'bad host!', /hostname/],
    ['[DEFAULT]\nenabled_apis = metadata,ec2\n', 'DEFAULT', 'enabled_apis', 'metadata,ec2', /"osapi_compute", "metadata"/],
    ['[libvirt]\nvirt_type = xen\n', 'libvirt', 'virt_type', 'xen', /"kvm", "lxc", "qemu", "parallels"/],
    ['[DEFAULT]\nrunning_deleted_instance_action = delete\n', 'DEFAULT', 'running_deleted_instance_action', 'delete', /"reap", "log", "shutdown", "noop"/],
    ['[compute]\nshutdown_retry_interval = 0\n', 'compute', 'shutdown_retry_interval', '0', /at least 1/],
    ['[libvirt]\nhw_machine_type = q35\n', 'libvirt', 'hw_machine_type', 'q35', /KEY=VALUE/],
    ['[api]\nvendordata_providers = StaticJSON,Mine\n', 'api', 'vendordata_providers', 'StaticJSON,Mine', /"StaticJSON", "DynamicJSON"/],
    ['[oslo_messaging_rabbit]\nrabbit_quorum_queue = sometimes\n', 'oslo_messaging_rabbit', 'rabbit_quorum_queue', 'sometimes', /boolean/],
    ['[DEFAULT]\nlogging_context_format_string = %(asctime)s %(instance_uuid)s\n', 'DEFAULT', 'logging_context_format_string', '%(asctime)s %(instance_uuid)s', /unknown key %\(instance_uuid\)s; known: name, msg/],
    ['[DEFAULT]\nlogging_default_format_string = %s %(message)s\n', 'DEFAULT', 'logging_default_format_string', '%s %(message)s', /only %\(name\)s-style/],
    ['[DEFAULT]\nlogging_exception_prefix = %(asctime)q\n', 'DEFAULT', 'logging_exception_prefix', '%(asctime)q', /unsupported conversion/],
    ['[DEFAULT]\ninstance_uuid_format = [%(instance)s] \n', 'DEFAULT', 'instance_uuid_format', '[%(instance)s]', /unknown key %\(instance\)s; known: uuid/],
    ['[DEFAULT]\ndefault_log_levels = amqp=WARN,nova_spawnd.bus=LOUD\n', 'DEFAULT', 'default_log_levels', 'amqp=WARN,nova_spawnd.bus=LOUD', /"nova_spawnd.bus=LOUD" is not logger=LEVEL/],
  ])('%j', (text, section, option, value, reason) => {
    const problems = problemsOf(() => load(text));
    expect(problems).toEqual([
      expect.objectContaining({ section, option, value, reason: expect.stringMatching(reason), source: { file: join(dir, '0.conf'), line: 2 } }),
    ]);
  });

  test("a log format's outer spaces survive the round trip: quoted in the sample and check-config, as oslo quotes them", () => {
    const loaded = load('[DEFAULT]\ninstance_uuid_format = "[instance: %(uuid)s] "\n');
    expect(loaded.config.DEFAULT.instance_uuid_format).toBe('[instance: %(uuid)s] ');
    expect(renderEffective(loaded.config)).toContain('\ninstance_uuid_format = "[instance: %(uuid)s] "\n');
  });

  test('every problem is reported at once, in file order', () => {
    const problems = problemsOf(() => load('[DEFAULT]\nmax_concurrent_builds = x\nforce_config_drive = y\n'));
    expect(problems.map((p) => p.option)).toEqual(['max_concurrent_builds', 'force_config_drive']);
  });

  test.each([
    ['key = value\n', /section must be started/],
    ['[DEFAULT\n', /must end with \]/],
    ['[DEFAULT]\n  continued\n', /unexpected continuation/],
    ['[DEFAULT]\njust words\n', /no ':' or '='/],
  ])('a malformed file %j is a parse error with its line', (text, reason) => {
    expect(() => load(text)).toThrow(IniParseError);
    expect(() => load(text)).toThrow(reason);
  });
});
