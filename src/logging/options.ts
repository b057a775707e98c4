/**
 * oslo.log's options (oslo_log/_options.py) with their defaults: what [DEFAULT] in nova.conf sets, and what
 * logging uses before the configuration is read.
 */

/** oslo_log._options.DEFAULT_LOG_LEVELS: Python libraries Nova quietens; kept as Nova ships them. */
export const DEFAULT_LOG_LEVELS = [
  'amqp=WARN',
  'amqplib=WARN',
  'boto=WARN',
  'qpid=WARN',
  'sqlalchemy=WARN',
  'suds=INFO',
  'oslo.messaging=INFO',
  'oslo_messaging=INFO',
  'iso8601=WARN',
  'requests.packages.urllib3.connectionpool=WARN',
  'urllib3.connectionpool=WARN',
  'websocket=WARN',
  'requests.packages.urllib3.util.retry=WARN',
  'urllib3.util.retry=WARN',
  'keystonemiddleware=WARN',
  'routes.middleware=WARN',
  'stevedore=WARN',
  'taskflow=WARN',
  'keystoneauth=WARN',
  'oslo.cache=INFO',
  'oslo_policy=INFO',
  'dogpile.core.dogpile=INFO',
];

/** The format options ContextFormatter reads. */
export interface FormatOptions {
  logging_context_format_string: string;
  logging_default_format_string: string;
  logging_debug_format_suffix: string;
  logging_exception_prefix: string;
  logging_user_identity_format: string;
  instance_uuid_format: string;
  log_date_format: string;
}

export const FORMAT_DEFAULTS: FormatOptions = {
  logging_context_format_string:
    '%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(global_request_id)s %(request_id)s %(user_identity)s] %(instance)s%(message)s',
  logging_default_format_string: '%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s',
  logging_debug_format_suffix: '%(funcName)s %(pathname)s:%(lineno)d',
  logging_exception_prefix: '%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s',
  logging_user_identity_format: '%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s',
  instance_uuid_format: '[instance: %(uuid)s] ',
  log_date_format: '%Y-%m-%d %H:%M:%S',
};

/** Everything logging reads from [DEFAULT]. */
export interface LoggingOptions extends FormatOptions {
  debug: boolean;
  log_file: string | null;
  log_dir: string | null;
  use_stderr: boolean;
  use_journal: boolean;
  use_json: boolean;
  default_log_levels: string[];
}

export const LOGGING_DEFAULTS: LoggingOptions = {
  ...FORMAT_DEFAULTS,
  debug: false,
  log_file: null,
  log_dir: null,
  use_stderr: false,
  use_journal: false,
  use_json: false,
  default_log_levels: DEFAULT_LOG_LEVELS,
};
