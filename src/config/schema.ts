/**
 * Every option nova-spawnd reads, with Nova's (or oslo's) section, name, default and meaning. The convict
 * schema is the single source for defaults, validation, check-config output and the sample file.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type convict from 'convict';
import {
  booleanType,
  floatType,
  hostDomainType,
  InvalidOptionValue,
  integerType,
  optionalFloatType,
  listType,
  optionalStringType,
  pairListType,
  portType,
  stringType,
  type OsloType,
} from './oslo-types.js';
import { checkFormat } from '../logging/context-formatter.js';
import { parseLevelPair } from '../logging/levels.js';
import { DEFAULT_LOG_LEVELS, LOGGING_DEFAULTS, type LoggingOptions } from '../logging/options.js';
import { formatKeys } from '../logging/percent-format.js';

export const CONFIG_DRIVE_FORMATS = ['iso9660', 'vfat'] as const;
export const VIRT_TYPES = ['kvm', 'lxc', 'qemu', 'parallels'] as const;
export const VENDORDATA_PROVIDERS = ['StaticJSON', 'DynamicJSON'] as const;
export const NOTIFICATION_FORMATS = ['both', 'versioned', 'unversioned'] as const;
/** keystoneauth's auth plugins nova-spawnd implements: password (Keystone v3 only, as v3password) and admin_token. */
export const AUTH_TYPES = ['password', 'v3password', 'admin_token'] as const;
export const INTERFACES = ['internal', 'public', 'admin'] as const;
export const RUNNING_DELETED_INSTANCE_ACTIONS = ['reap', 'log', 'shutdown', 'noop'] as const;

export type AuthType = (typeof AUTH_TYPES)[number];

/** keystoneauth's auth options (loading/conf.py) and those of its password and admin_token plugins. */
export interface KsaAuthOptions {
  auth_type: AuthType | null;
  auth_url: string | null;
  username: string | null;
  user_id: string | null;
  user_domain_name: string | null;
  user_domain_id: string | null;
  password: string | null;
  project_name: string | null;
  project_id: string | null;
  project_domain_name: string | null;
  project_domain_id: string | null;
  endpoint: string | null;
  token: string | null;
}

/** keystoneauth's Adapter options that Nova leaves to the operator (nova/conf/utils.py get_ksa_adapter_opts). */
export interface KsaAdapterOptions {
  service_type: string;
  service_name: string | null;
  valid_interfaces: (typeof INTERFACES)[number][];
  region_name: string | null;
  endpoint_override: string | null;
}

export interface NovaConfig {
  DEFAULT: {
    host: string;
    state_path: string;
    instances_path: string;
    transport_url: string;
    control_exchange: string;
    force_config_drive: boolean;
    config_drive_format: (typeof CONFIG_DRIVE_FORMATS)[number];
    mkisofs_cmd: string;
    default_ephemeral_format: string | null;
    max_concurrent_builds: number;
    vif_plugging_timeout: number;
    vif_plugging_is_fatal: boolean;
    flat_injected: boolean;
    graceful_shutdown_timeout: number;
    my_ip: string;
    rpc_response_timeout: number;
    report_interval: number;
    enable_new_services: boolean;
    update_resources_interval: number;
    shutdown_timeout: number;
    sync_power_state_interval: number;
    running_deleted_instance_action: (typeof RUNNING_DELETED_INSTANCE_ACTIONS)[number];
    running_deleted_instance_poll_interval: number;
    running_deleted_instance_timeout: number;
    cpu_allocation_ratio: number | null;
    initial_cpu_allocation_ratio: number;
    ram_allocation_ratio: number | null;
    initial_ram_allocation_ratio: number;
    disk_allocation_ratio: number | null;
    initial_disk_allocation_ratio: number;
    reserved_host_cpus: number;
    reserved_host_memory_mb: number;
    reserved_host_disk_mb: number;
    enabled_apis: string[];
    metadata_listen: string;
    metadata_listen_port: number;
  } & LoggingOptions;
  api: {
    config_drive_skip_versions: string;
    dhcp_domain: string;
    vendordata_providers: (typeof VENDORDATA_PROVIDERS)[number][];
    vendordata_jsonfile_path: string | null;
    use_forwarded_for: boolean;
  };
  compute: {
    shutdown_retry_interval: number;
  };
  libvirt: {
    virt_type: (typeof VIRT_TYPES)[number];
    connection_uri: string;
    hw_machine_type: string[];
    disk_prefix: string | null;
    disk_cachemodes: string[];
    wait_soft_reboot_seconds: number;
  };
  placement: KsaAuthOptions & KsaAdapterOptions;
  glance: {
    api_servers: string[];
  } & KsaAdapterOptions;
  neutron: {
    service_metadata_proxy: boolean;
    metadata_proxy_shared_secret: string;
    ovs_bridge: string;
    extension_sync_interval: number;
  } & KsaAuthOptions &
    KsaAdapterOptions;
  service_user: {
    send_service_user_token: boolean;
  } & KsaAuthOptions;
  notifications: {
    notification_format: (typeof NOTIFICATION_FORMATS)[number];
    versioned_notifications_topics: string[];
  };
  oslo_messaging_notifications: {
    driver: string[];
    topics: string[];
    transport_url: string | null;
  };
  oslo_messaging_rabbit: {
    rabbit_qos_prefetch_count: number;
    heartbeat_timeout_threshold: number;
    heartbeat_rate: number;
    rabbit_quorum_queue: boolean;
    amqp_durable_queues: boolean;
    amqp_auto_delete: boolean;
    ssl: boolean;
    ssl_ca_file: string;
    ssl_cert_file: string;
    ssl_key_file: string;
  };
  /** nova-spawnd's own options: nothing in Nova matches them. */
  nova_spawnd: {
    metrics_enabled: boolean;
    metrics_listen: string;
    metrics_listen_port: number;
    dead_letter_max_length: number;
  };
}

export type SectionName = keyof NovaConfig;

/** A convict leaf that also knows its oslo type, so the loader can parse INI strings and the sample can render. */
export interface OptionSpec<T = unknown> extends convict.SchemaObj<T> {
  doc: string;
  oslo: OsloType<T>;
  /** MultiStrOpt: the key may repeat, and every value (from every file) is kept in order. */
  multi: boolean;
  /** Masked by check-config and in logs (oslo's secret=True). */
  secret: boolean;
  /** What the sample file shows when the real default depends on the machine (oslo's sample_default). */
  sample_default?: string;
  /** Older places Nova still reads the option from (oslo's deprecated_group / deprecated_name). */
  deprecated: DeprecatedName[];
}

/** oslo's DeprecatedOpt: an omitted section or name means the option's own. */
export interface DeprecatedName {
  section?: string;
  name?: string;
}

interface Extra {
  secret?: boolean;
  sample_default?: string;
  deprecated?: DeprecatedName[];
}

function option<T>(oslo: OsloType<T>, defaultValue: T, doc: string, extra: Extra = {}): OptionSpec<T> {
  return {
    default: defaultValue,
    doc,
    oslo,
    multi: false,
    secret: extra.secret ?? false,
    sensitive: extra.secret ?? false,
    nullable: defaultValue === null,
    format: (value: T) => oslo.check(value),
    deprecated: extra.deprecated ?? [],
    ...(extra.sample_default === undefined ? {} : { sample_default: extra.sample_default }),
  };
}

function multiOption(doc: string, extra: Extra = {}): OptionSpec<string[]> {
  const item = stringType();
  return {
    ...option<string[]>({ ...listType(), label: 'multi valued', parse: (raw) => [item.parse(raw)] }, [], doc, extra),
    multi: true,
  };
}

type Schema = { [S in SectionName]: { [O in keyof NovaConfig[S]]: OptionSpec<NovaConfig[S][O]> } };
type Specs<T> = { [O in keyof T]: OptionSpec<T[O]> };

/** An unset string option (oslo's default None). */
function unset(doc: string, extra: Extra = {}): OptionSpec<string | null> {
  return option(optionalStringType(), null, doc, extra);
}

/**
 * keystoneauth's auth options as ks_loading registers them in a section: auth_type, then the options of the
 * password and admin_token plugins (keystoneauth registers only the chosen plugin's; every one is listed here
 * so that the sample shows them).
 */
function ksaAuthOptions(usedFor: string): Specs<KsaAuthOptions> {
  return {
    auth_type: option(
      optionalStringType(AUTH_TYPES),
      null,
      `How nova-spawnd authenticates ${usedFor}: password (a Keystone v3 token for the user below, scoped to the project below, with the service catalog) or admin_token (a fixed endpoint and token, for a cloud without Keystone).`,
      { deprecated: [{ name: 'auth_plugin' }] },
    ),
    auth_url: unset('password: the Keystone URL (http://keystone:5000 or .../v3) to get tokens from.'),
    username: unset('password: the user name (needs user_domain_name or user_domain_id).', { deprecated: [{ name: 'user_name' }] }),
    user_id: unset('password: the user id, instead of username.'),
    user_domain_name: unset("password: the name of the user's domain."),
    user_domain_id: unset("password: the id of the user's domain."),
    password: unset("password: the user's password.", { secret: true }),
    project_name: unset('password: the project to scope the token to (needs project_domain_name or project_domain_id).', {
      deprecated: [{ name: 'tenant_name' }],
    }),
    project_id: unset('password: the id of the project to scope the token to, instead of project_name.', { deprecated: [{ name: 'tenant_id' }] }),
    project_domain_name: unset("password: the name of the project's domain."),
    project_domain_id: unset("password: the id of the project's domain."),
    endpoint: unset('admin_token: the endpoint every request goes to.', { deprecated: [{ name: 'url' }] }),
    token: unset('admin_token: the token every request carries.', { secret: true }),
  };
}

/** keystoneauth's Adapter options, with Nova's defaults: which endpoint of the service catalog to call. */
function ksaAdapterOptions(serviceType: string): Specs<KsaAdapterOptions> {
  return {
    service_type: option(stringType(), serviceType, 'The service type to look up in the service catalog.'),
    service_name: unset('The service name to look up in the service catalog, when several services have the type.'),
    valid_interfaces: option(
      listType(INTERFACES),
      ['internal', 'public'],
      'The endpoint interfaces to use from the service catalog, the first one found winning.',
    ),
    region_name: unset('The region of the endpoint in the service catalog; unset: any.'),
    endpoint_override: unset('Always use this endpoint URL, whatever the service catalog says.'),
  };
}

/** A StrOpt holding a Python %-format for log records: its keys are checked when the file is read. */
function logFormatType(check: (format: string) => void): OsloType<string> {
  const plain = stringType();
  const checked = (value: string): void => {
    try {
      check(value);
    } catch (error) {
      throw new InvalidOptionValue(`a %(key)s format string: ${(error as Error).message}`);
    }
  };
  // oslo-config-generator quotes a value with outer spaces, so that the file keeps them (instance_uuid_format's).
  const format = (value: string): string => (value.trim() === value ? value : `"${value}"`);
  return { ...plain, parse: (raw) => (checked(raw), raw), format, check: checked };
}

/** default_log_levels: a ListOpt of logger=LEVEL, each LEVEL one Python's logging knows. */
function levelPairsType(): OsloType<string[]> {
  const list = listType();
  const check = (pairs: string[]): void => {
    try {
      pairs.forEach(parseLevelPair);
    } catch (error) {
      throw new InvalidOptionValue(`a comma-separated list of logger=LEVEL pairs: ${(error as Error).message}`);
    }
  };
  return { ...list, allowed: 'a comma-separated list of logger=LEVEL pairs', parse: (raw) => { const pairs = list.parse(raw); check(pairs); return pairs; }, check };
}

/** oslo.log's options (oslo_log/_options.py) that nova-spawnd implements, with oslo's defaults and help. */
function loggingOptions(): Specs<Omit<LoggingOptions, 'debug'>> {
  const recordFormat = (name: keyof LoggingOptions, doc: string) => option(logFormatType((format) => checkFormat(format)), LOGGING_DEFAULTS[name] as string, doc);
  return {
    log_date_format: option(stringType(), LOGGING_DEFAULTS.log_date_format, `Defines the format string for %(asctime)s in log records. Default: ${LOGGING_DEFAULTS.log_date_format} .`),
    log_file: option(optionalStringType(), null, '(Optional) Name of log file to send logging output to. If no default is set, logging will go to stderr as defined by use_stderr. The file is reopened when logrotate moves it (and on SIGHUP).', {
      deprecated: [{ name: 'logfile' }],
    }),
    log_dir: option(optionalStringType(), null, '(Optional) The base directory used for relative log_file paths; alone, logs go to nova-spawnd.log in it.', {
      deprecated: [{ name: 'logdir' }],
    }),
    use_journal: option(
      booleanType,
      false,
      "Enable journald for logging. If running in a systemd environment you may wish to enable journal support. Doing so will use the journal native protocol which includes structured metadata in addition to log messages (PRIORITY, REQUEST_ID, INSTANCE_UUID, ...).",
    ),
    use_json: option(booleanType, false, 'Use JSON formatting for logging.'),
    use_stderr: option(booleanType, false, 'Log output to standard error (also when log_file or use_journal sends it elsewhere; with neither, logs go to standard error anyway).'),
    logging_context_format_string: recordFormat('logging_context_format_string', 'Format string to use for log messages with context.'),
    logging_default_format_string: recordFormat('logging_default_format_string', 'Format string to use for log messages when context is undefined.'),
    logging_debug_format_suffix: recordFormat('logging_debug_format_suffix', 'Additional data to append to log message when logging level for the message is DEBUG.'),
    logging_exception_prefix: recordFormat('logging_exception_prefix', 'Prefix each line of exception output with this format.'),
    logging_user_identity_format: option(
      logFormatType(formatKeys),
      LOGGING_DEFAULTS.logging_user_identity_format,
      "Defines the format string for %(user_identity)s that is used in logging_context_format_string: any key of the request context, '-' when unset.",
    ),
    default_log_levels: option(
      levelPairsType(),
      DEFAULT_LOG_LEVELS,
      "List of package logging levels in logger=LEVEL pairs. A level applies to the logger and the loggers under it: nova_spawnd.bus=WARNING quietens the message bus's.",
    ),
    instance_uuid_format: option(
      logFormatType((format) => checkFormat(format, ['uuid'])),
      LOGGING_DEFAULTS.instance_uuid_format,
      'The format for an instance UUID that is passed with the log message.',
    ),
  };
}

/**
 * netutils.get_my_ipv4 without its UDP probe of a public address: an IPv4 address of the interface the
 * default route leaves by (/proc/net/route), else of any interface but loopback, else 127.0.0.1. Never the
 * first interface alone: on a compute node that may be a guest bridge (virbr0, brq...).
 */
function hostIpv4(): string {
  let routeInterface: string | undefined;
  try {
    const routes = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1).map((line) => line.trim().split(/\s+/));
    routeInterface = routes.find((fields) => fields[1] === '00000000' && fields[7] === '00000000')?.[0];
  } catch {
    // Not Linux: any interface will do.
  }
  const interfaces = os.networkInterfaces();
  const ipv4 = (entries: os.NetworkInterfaceInfo[] | undefined) => entries?.find((entry) => entry.family === 'IPv4' && !entry.internal)?.address;
  return (routeInterface === undefined ? undefined : ipv4(interfaces[routeInterface])) ?? ipv4(Object.values(interfaces).flatMap((entries) => entries ?? [])) ?? '127.0.0.1';
}

export const schema: Schema = {
  DEFAULT: {
    host: option(
      hostDomainType,
      os.hostname(),
      'Hostname, FQDN or IP address of this host. Used as the compute.<host> queue nova-conductor casts to, and as the publisher of notifications. Must match the host name Nova schedules to.',
      { sample_default: '<current_hostname>' },
    ),
    state_path: option(stringType(), '/var/lib/nova', "The top-level directory for maintaining Nova's state."),
    instances_path: option(
      stringType(),
      '$state_path/instances',
      "Where instances are stored on the hypervisor's disk: one directory per instance uuid holding libvirt.xml, disk.config and console.log, plus the _base image cache.",
    ),
    transport_url: option(
      stringType(),
      'rabbit://',
      'The network address and credentials of the message bus, as a URL: rabbit://USER:PASS@HOST:PORT[,USER:PASS@HOST2:PORT2]/VHOST. "rabbit://" alone means guest:guest on localhost:5672.',
      { secret: true },
    ),
    control_exchange: option(stringType(), 'nova', 'The exchange that RPC topics (compute, compute.<host>) and notifications are scoped to.'),
    force_config_drive: option(
      booleanType,
      false,
      'Build a config drive for every instance, whether or not it asked for one (instances that were already launched once are left as they are, as Nova does).',
    ),
    config_drive_format: option(
      stringType(CONFIG_DRIVE_FORMATS),
      'iso9660',
      'The file system of the config drive: iso9660 (attached as a cdrom) or vfat (attached as a disk).',
    ),
    mkisofs_cmd: option(
      stringType(),
      'genisoimage',
      'Name or path of an external tool to build ISO config drives with, called with the arguments Nova uses. Only when this option is set in a configuration file (even to genisoimage) is the tool used; left unset, the built-in ISO writer builds the drive and no external tool is needed.',
    ),
    default_ephemeral_format: option(
      optionalStringType(),
      null,
      'File system for new ephemeral disks (ext2, ext3, ext4, xfs, ntfs, vfat). Unset, as in Nova: by the image\'s os_type, ext4 for linux, ntfs for windows, vfat otherwise.',
    ),
    max_concurrent_builds: option(
      integerType({ min: 0 }),
      10,
      'Maximum number of instance builds to run concurrently; also the AMQP prefetch. 0 means unlimited.',
    ),
    vif_plugging_timeout: option(
      integerType({ min: 0 }),
      300,
      "Seconds a build waits for Neutron's network-vif-plugged for every port that is not ACTIVE yet, with its guest paused; 0 means do not wait (Nova's option).",
    ),
    vif_plugging_is_fatal: option(
      booleanType,
      true,
      'Whether a build whose ports did not come up within vif_plugging_timeout, or that Neutron reported as failed, goes to ERROR (else the guest runs on, perhaps without network).',
    ),
    flat_injected: option(
      booleanType,
      false,
      "Whether network setup is injected into the guest before boot: the network_info's meta.injected, which makes the config drive carry the Debian-style interfaces file (Nova's option).",
    ),
    graceful_shutdown_timeout: option(
      integerType({ min: 0 }),
      60,
      "oslo.service's: seconds a stop (SIGTERM) waits for the builds in flight before the daemon exits; a build not finished by then stays unacknowledged and the broker delivers it again. 0 means wait as long as they take. The systemd unit's TimeoutStopSec must be longer.",
    ),
    my_ip: option(
      stringType(),
      hostIpv4(),
      "The IP address of this host on the management network: the compute node's host_ip, the address the control plane knows it by.",
      { sample_default: '<host_ipv4>' },
    ),
    rpc_response_timeout: option(integerType(), 60, "oslo.messaging's: seconds to wait for the answer to an RPC call (to nova-conductor) before it fails with MessagingTimeout."),
    report_interval: option(
      integerType(),
      10,
      "Seconds between the service's heartbeats to the control plane (Service.report_count saved through nova-conductor). The control plane counts the service down after [DEFAULT] service_down_time (60 s) without one.",
    ),
    enable_new_services: option(booleanType, true, 'A compute service registering for the first time is enabled for scheduling; false registers it disabled, for an operator to enable.'),
    update_resources_interval: option(
      integerType(),
      0,
      "Seconds between updates of the compute node's resources and of its inventory in placement; 0 means every 60 s (Nova's periodic task spacing). Builds and deletes update them as well.",
    ),
    shutdown_timeout: option(
      integerType({ min: 0 }),
      60,
      "Seconds a stop gives the guest to shut down cleanly after an ACPI power button press, before it is powered off. 0 powers it off at once, with no chance for the guest OS to clean up. An image's os_shutdown_timeout property wins.",
    ),
    sync_power_state_interval: option(
      integerType(),
      600,
      "Seconds between syncs of the instances' power states from the hypervisor to Nova: a guest that powered itself off is stopped through the compute API (SHUTOFF), one that runs while Nova has it stopped is powered off again. 0 means every 60 s (Nova's periodic task spacing); a negative value disables the sync.",
    ),
    running_deleted_instance_action: option(
      stringType(RUNNING_DELETED_INSTANCE_ACTIONS),
      'reap',
      'What to do with a guest still on this host whose instance Nova has deleted: reap (power it off and delete it with its files), log (a warning), shutdown (power it off, keeping it for analysis) or noop.',
    ),
    running_deleted_instance_poll_interval: option(
      integerType(),
      1800,
      "Seconds between checks for guests whose instances Nova has deleted (see running_deleted_instance_action). 0 means every 60 s, as Nova's periodic task spacing makes it (Nova's own help says 0 disables the check; it does not); a negative value disables it.",
    ),
    running_deleted_instance_timeout: option(
      integerType(),
      0,
      'Seconds an instance must have been deleted in Nova before its guest is handled by running_deleted_instance_action.',
    ),
    cpu_allocation_ratio: option(
      optionalFloatType({ min: 0 }),
      null,
      'VCPU overcommit in placement (allocation_ratio of the VCPU inventory). Unset: initial_cpu_allocation_ratio when the node is created, and whatever placement holds (an operator may set it there) afterwards.',
    ),
    initial_cpu_allocation_ratio: option(floatType({ min: 0 }), 16.0, 'The VCPU allocation ratio of a new compute node, when cpu_allocation_ratio is unset.'),
    ram_allocation_ratio: option(optionalFloatType({ min: 0 }), null, 'MEMORY_MB overcommit in placement; unset as for cpu_allocation_ratio.'),
    initial_ram_allocation_ratio: option(floatType({ min: 0 }), 1.5, 'The MEMORY_MB allocation ratio of a new compute node, when ram_allocation_ratio is unset.'),
    disk_allocation_ratio: option(optionalFloatType({ min: 0 }), null, 'DISK_GB overcommit in placement; unset as for cpu_allocation_ratio.'),
    initial_disk_allocation_ratio: option(floatType({ min: 0 }), 1.0, 'The DISK_GB allocation ratio of a new compute node, when disk_allocation_ratio is unset.'),
    reserved_host_cpus: option(integerType({ min: 0 }), 0, 'VCPUs held back for the host: reserved in the VCPU inventory.'),
    reserved_host_memory_mb: option(integerType({ min: 0 }), 512, 'Memory in MiB held back for the host: reserved in the MEMORY_MB inventory.'),
    reserved_host_disk_mb: option(
      integerType({ min: 0 }),
      0,
      'Disk in MiB held back for the host: reserved in the DISK_GB inventory (rounded up to whole GiB, as Nova does).',
    ),
    enabled_apis: option(
      listType(['osapi_compute', 'metadata']),
      ['osapi_compute', 'metadata'],
      'APIs to enable. nova-spawnd serves only the metadata API, when "metadata" is listed.',
    ),
    metadata_listen: option(stringType(), '0.0.0.0', 'IP address on which the metadata API listens.'),
    metadata_listen_port: option(portType, 8775, 'Port on which the metadata API listens.'),
    debug: option(booleanType, false, 'If set to true, the logging level will be set to DEBUG instead of the default INFO level. Re-read on SIGHUP.'),
    ...loggingOptions(),
  },
  api: {
    config_drive_skip_versions: option(
      stringType(),
      '1.0 2007-01-19 2007-03-01 2007-08-29 2007-10-10 2007-12-15 2008-02-01 2008-09-01',
      'Space-separated EC2 metadata versions NOT to write to the config drive.', { deprecated: [{ section: 'DEFAULT' }] }),
    dhcp_domain: option(
      stringType(),
      'novalocal',
      'Domain appended to instance hostnames in metadata (hostname.dhcp_domain). Empty for bare hostnames.', { deprecated: [{ section: 'DEFAULT' }] }),
    vendordata_providers: option(
      listType(VENDORDATA_PROVIDERS),
      ['StaticJSON'],
      'Vendor data providers. StaticJSON serves the file named by vendordata_jsonfile_path.',
    ),
    vendordata_jsonfile_path: option(optionalStringType(), null, 'Path of the JSON file the StaticJSON vendor data provider serves.', { deprecated: [{ section: 'DEFAULT' }] }),
    use_forwarded_for: option(
      booleanType,
      false,
      'Treat X-Forwarded-For as the requester address when identifying an instance by IP. Only enable this behind a proxy that sets it.', { deprecated: [{ section: 'DEFAULT' }] }),
  },
  compute: {
    shutdown_retry_interval: option(
      integerType({ min: 1 }),
      10,
      'Seconds between ACPI shutdown requests to a guest while a clean stop waits for it (up to [DEFAULT] shutdown_timeout in all).',
    ),
  },
  libvirt: {
    virt_type: option(stringType(VIRT_TYPES), 'kvm', 'The libvirt domain type. Use qemu where hardware virtualisation is unavailable.'),
    connection_uri: option(
      stringType(),
      '',
      'Overrides the libvirt URI derived from virt_type (qemu:///system for kvm and qemu). test:///default is libvirt\'s in-process test driver.',
    ),
    hw_machine_type: option(
      pairListType('x86_64=q35,aarch64=virt'),
      [],
      'Default machine type per host architecture, as ARCH=MACHINE_TYPE pairs, e.g. x86_64=q35. Image property hw_machine_type wins.',
    ),
    disk_prefix: option(optionalStringType(), null, 'Override the disk name prefix (hd, sd, vd) used when choosing free device names.'),
    disk_cachemodes: option(pairListType('file=directsync,block=none'), [], 'Cache modes per disk source type, e.g. file=directsync,block=none.'),
    wait_soft_reboot_seconds: option(
      integerType(),
      120,
      'Seconds a soft reboot waits for the guest to shut down after the ACPI request; a guest that has not by then is rebooted hard.',
    ),
  },
  placement: {
    ...ksaAuthOptions(
      'to placement. Set, nova-spawnd is a compute service of a Nova control plane (it registers, and reports its resources to placement); unset, it runs standalone',
    ),
    ...ksaAdapterOptions('placement'),
  },
  glance: {
    api_servers: option(
      listType(),
      [],
      'Glance API endpoints (e.g. http://controller:9292) to download images from when they are not in the local _base cache.',
    ),
    ...ksaAdapterOptions('image'),
  },
  neutron: {
    service_metadata_proxy: option(
      booleanType,
      false,
      "Metadata requests come through Neutron's metadata proxy, which identifies the instance with signed X-Instance-ID headers.",
    ),
    metadata_proxy_shared_secret: option(
      stringType(),
      '',
      "Shared secret that signs Neutron metadata proxy requests (HMAC-SHA256 of the instance id in X-Instance-ID-Signature).",
      { secret: true },
    ),
    ovs_bridge: option(
      stringType(),
      'br-int',
      "The Open vSwitch integration bridge of an ovs port whose binding does not name one (vif_details bridge_name).",
    ),
    extension_sync_interval: option(
      integerType({ min: 0 }),
      600,
      "Seconds Neutron's extension list is kept before it is asked again (dns-integration, multi-provider, port-resource-request-groups change what is sent); 0 asks every time.",
    ),
    ...ksaAuthOptions('to Neutron as itself (binding ports to this host needs them; unset: no credentials)'),
    ...ksaAdapterOptions('network'),
  },
  service_user: {
    send_service_user_token: option(
      booleanType,
      false,
      "When a request to another service carries a user's token, also send this section's token as X-Service-Token, so that the request is accepted even if the user's token expired meanwhile.",
    ),
    ...ksaAuthOptions('for the service token (unset: no credentials)'),
  },
  notifications: {
    notification_format: option(
      stringType(NOTIFICATION_FORMATS),
      'unversioned',
      'Which notifications to emit: unversioned (the legacy compute.instance.*, to [oslo_messaging_notifications] topics), versioned (instance.*, to versioned_notifications_topics) or both. nova-spawnd emits create.start/end/error and, as a compute service of a control plane, <action>.start/end/error of delete, shutdown, power_off, power_on and reboot.',
    ),
    versioned_notifications_topics: option(listType(), ['versioned_notifications'], 'Topics for versioned notifications.'),
  },
  oslo_messaging_notifications: {
    driver: multiOption(
      'Notification drivers; repeat the key for several. messagingv2 (or messaging) publishes to the bus; none, noop or no key at all disables notifications.',
      { deprecated: [{ section: 'DEFAULT', name: 'notification_driver' }] },
    ),
    topics: option(listType(), ['notifications'], 'AMQP topics used for unversioned notifications.', { deprecated: [{ section: 'DEFAULT', name: 'notification_topics' }] }),
    transport_url: option(optionalStringType(), null, 'A separate message bus for notifications; unset means [DEFAULT] transport_url.', {
      secret: true,
      deprecated: [{ section: 'DEFAULT', name: 'notification_transport_url' }],
    }),
  },
  oslo_messaging_rabbit: {
    rabbit_qos_prefetch_count: option(
      integerType({ min: 0 }),
      0,
      "Messages the broker hands each consumer before it acknowledges any; 0 means no limit (oslo.messaging's default, what nova-compute runs with). Builds beyond max_concurrent_builds wait in the daemon, unacknowledged (the broker delivers them again if the daemon dies). A limit below the builds that may wait for network-vif-plugged at once can hold back the very events they wait for, until vif_plugging_timeout.",
    ),
    heartbeat_timeout_threshold: option(
      integerType({ min: 0 }),
      60,
      'Seconds without a heartbeat after which the broker connection counts as dead. 0 disables heartbeats.',
    ),
    heartbeat_rate: option(integerType({ min: 1 }), 2, 'How many times per heartbeat_timeout_threshold the heartbeat is checked.'),
    rabbit_quorum_queue: option(booleanType, false, 'Declare the compute queues as quorum queues (x-queue-type=quorum), durable.'),
    amqp_durable_queues: option(
      booleanType,
      false,
      'Declare the control exchange and the compute queues durable (always so with quorum queues). Must match the other services of the deployment: RabbitMQ refuses a redeclaration with other flags.',
    ),
    amqp_auto_delete: option(booleanType, false, 'Declare the control exchange and the compute queues auto-delete.', {
      deprecated: [{ section: 'DEFAULT' }],
    }),
    ssl: option(booleanType, false, 'Connect to RabbitMQ over TLS (amqps).', { deprecated: [{ name: 'rabbit_use_ssl' }] }),
    ssl_ca_file: option(stringType(), '', 'CA certificates file for verifying the broker (TLS).', { deprecated: [{ name: 'kombu_ssl_ca_certs' }] }),
    ssl_cert_file: option(stringType(), '', 'Client certificate file (TLS).', { deprecated: [{ name: 'kombu_ssl_certfile' }] }),
    ssl_key_file: option(stringType(), '', 'Client private key file (TLS).', { deprecated: [{ name: 'kombu_ssl_keyfile' }] }),
  },
  nova_spawnd: {
    metrics_enabled: option(
      booleanType,
      true,
      'Serve Prometheus metrics at /metrics and the health check at /healthz on metrics_listen:metrics_listen_port.',
    ),
    metrics_listen: option(
      stringType(),
      '127.0.0.1',
      'IP address on which the metrics and health endpoint listens. Only the host itself by default: the metrics name instances and hosts.',
    ),
    metrics_listen_port: option(portType, 9779, 'Port on which the metrics and health endpoint listens.'),
    dead_letter_max_length: option(
      integerType({ min: 0 }),
      10000,
      'Most messages the dead-letter queue (nova-spawnd.dead, shared by every host on the broker) holds; 0 means no bound. A full queue refuses the next dead letter (RabbitMQ x-overflow reject-publish): that message stays in its compute queue, tried again every few seconds, and the daemon logs a warning and counts it (nova_spawnd_dead_letters_refused_total) until nova-spawnd dead-letters replay or list has made room. Every host should set the same value: the first to (re)connect with another one re-declares the queue when it is empty, and keeps it as it is otherwise.',
    ),
  },
};

/** Every option as (section, name, spec), in schema order: what the loader, sample and check-config walk. */
export function allOptions(): { section: SectionName; name: string; spec: OptionSpec }[] {
  return (Object.keys(schema) as SectionName[]).flatMap((section) =>
    Object.entries(schema[section]).map(([name, spec]) => ({ section, name, spec: spec as OptionSpec })),
  );
}
