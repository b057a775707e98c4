/**
 * Our formatters against oslo.log's own (Debian's python3-oslo.log): the same records, with a fixed time,
 * pid, caller and request context, formatted by ContextFormatter, JSONFormatter and OSJournalHandler there
 * and here, compared byte for byte (JSON and journal fields as values), in a time zone with a half-hour offset.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../../src/version.js';
import { formatRecord } from '../../src/logging/context-formatter.js';
import { journalFields } from '../../src/logging/journal-entry.js';
import { formatJson } from '../../src/logging/json-formatter.js';
import { FORMAT_DEFAULTS, type FormatOptions } from '../../src/logging/options.js';
import { LEVELS, requestLogContext, type Level, type LogContext, type LogRecord } from '../../src/logging/record.js';
import { DEBIAN_PYTHON } from '../metadata/python.js';

const TZ = 'Asia/Kolkata';
const UUID = '6f1e1ad4-0a5c-4d4b-9d6a-3c1b8f3e2a10';
/** A Nova request context as nova-conductor sends it (the _context_ keys that matter to logging). */
const NOVA_CONTEXT = {
  request_id: 'req-4b9c3d1e-8f0a-4c5b-9d2e-1f3a5b7c9d0e',
  global_request_id: null,
  user_id: '5f1d6a3c8b9e4f20a1b2c3d4e5f60718',
  project_id: '9a8b7c6d5e4f40312a1b2c3d4e5f6a7b',
  user_name: 'admin',
  project_name: 'demo',
  user_domain: 'default',
  project_domain: 'default',
  is_admin: true,
  auth_token: 'gAAAAABsecret',
};

interface Case {
  what: string;
  level: Level;
  msg: string;
  context: LogContext;
  error?: { type: string; message: string };
  options?: Partial<FormatOptions>;
}

const cases: Case[] = [
  { what: 'a build step: context format, instance', level: 'INFO', msg: 'Took 2.31 seconds to spawn the instance on the hypervisor.', context: { ...requestLogContext(NOVA_CONTEXT), instance: UUID } },
  { what: 'no context: default format', level: 'INFO', msg: 'nova-spawnd 0.1.0 starting', context: {} },
  { what: 'no context, an instance', level: 'WARNING', msg: 'Instance shutdown by itself.', context: { instance: UUID } },
  { what: 'DEBUG: the caller after the line', level: 'DEBUG', msg: 'Lock acquired', context: requestLogContext(NOVA_CONTEXT) },
  {
    what: 'an error with its stack: summary, each traceback line under the exception prefix',
    level: 'ERROR',
    msg: 'Instance failed to spawn',
    context: { ...requestLogContext(NOVA_CONTEXT), instance: UUID },
    error: { type: 'ValueError', message: 'qcow2 image claims to be raw' },
  },
  {
    what: 'a warning with an error, no context',
    level: 'WARNING',
    msg: 'could not register, retrying',
    context: {},
    error: { type: 'MessagingTimeout', message: 'Timed out waiting for a reply' },
  },
  {
    what: 'a global request id and the identity fields (a domain-scoped context\'s domain is not carried)',
    level: 'INFO',
    msg: 'terminating',
    context: { ...requestLogContext({ ...NOVA_CONTEXT, global_request_id: 'req-0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f', domain: 'dom', system_scope: 'all' }), instance: UUID },
  },
  {
    what: 'operator formats: other date, isotime, names, error summary placeholder, custom instance format',
    level: 'ERROR',
    msg: 'build failed',
    context: { ...requestLogContext(NOVA_CONTEXT), instance: UUID },
    error: { type: 'RuntimeError', message: '' },
    options: {
      log_date_format: '%d/%b/%Y:%I:%M:%S %p %a %j',
      logging_context_format_string: '%(isotime)s %(asctime)s %(process)7d %(levelname)-8s %(name)s [%(request_id)s %(user_identity)s] %(instance)s%(message)s (%(error_summary)s) %(filename)s %(module)s',
      logging_user_identity_format: '%(user_name)s@%(project_name)s %(roles)s',
      logging_exception_prefix: '!! %(levelname)s %(instance)s',
      instance_uuid_format: '<%(uuid)s> ',
      logging_debug_format_suffix: '',
    },
  },
  { what: "oslo's %% escape and a width", level: 'INFO', msg: '100% done', context: {}, options: { logging_default_format_string: '%(levelname)5s|%(msecs)06.2f|%% %(message)s' } },
];

const CREATED = Date.UTC(2026, 11, 2, 8, 46, 56, 7);
const CALLER = { funcName: 'spawn', pathname: '/usr/lib/nova-spawnd/dist/src/compute/spawn-pipeline.js', lineno: 242 };

function ourRecord(spec: Case): LogRecord {
  const record: LogRecord = { name: 'nova_spawnd.compute', levelname: spec.level, levelno: LEVELS[spec.level], msg: spec.msg, context: spec.context, created: CREATED, relativeCreated: 1234.5, process: 4242, caller: CALLER };
  return record;
}

interface Oslo {
  text: string;
  json: Record<string, unknown>;
  journal: Record<string, string>;
  traceback: string | null;
}

/** The records through oslo.log: python gets the request context as the dict RequestContext.get_logging_values gives. */
function oslo(specs: Case[], options: Partial<FormatOptions>): Oslo[] {
  const records = specs.map((spec) => {
    const { instance, ...context } = spec.context;
    const hasContext = Object.keys(context).length > 0;
    return {
      name: 'nova_spawnd.compute',
      levelno: LEVELS[spec.level],
      msg: spec.msg,
      created_ms: CREATED,
      process: 4242,
      relative_created: 1234.5,
      func: CALLER.funcName,
      pathname: CALLER.pathname,
      lineno: CALLER.lineno,
      context: hasContext ? context : null,
      instance_uuid: instance ?? null,
      extra: {},
      error: spec.error ?? null,
    };
  });
  const input = JSON.stringify({ options, records });
  const out = execFileSync(DEBIAN_PYTHON, [join(import.meta.dirname, '../helpers/oslo_log_format.py')], { input, env: { ...process.env, TZ } });
  return JSON.parse(out.toString()) as Oslo[];
}

interface Ours {
  text: string;
  json: string;
  journal: [string, string][];
}

/**
 * Our formatters on the same records, in a child process with TZ set (jest's process.env does not reach the
 * process's time zone), from dist/ (jest's global setup builds it). An error is an Error whose stack is
 * Python's traceback text, so that the prefixing is compared on the same lines.
 */
function ours(records: { record: LogRecord; error: { type: string; message: string; traceback: string } | null }[], options: FormatOptions): Ours[] {
  const dist = (module: string) => pathToFileURL(join(PACKAGE_ROOT, 'dist/src/logging', module)).href;
  const script = `
    import { formatRecord } from '${dist('context-formatter.js')}';
    import { formatJson } from '${dist('json-formatter.js')}';
    import { journalFields } from '${dist('journal-entry.js')}';
    import { errorTraceback } from '${dist('record.js')}';
    const { records, options } = JSON.parse(process.argv[1]);
    const out = records.map(({ record, error }) => {
      if (error) {
        record.error = new Error(error.message);
        record.error.name = error.type;
        record.error.stack = error.traceback;
      }
      const text = formatRecord(record, options);
      const traceback = record.error === undefined ? null : errorTraceback(record.error);
      return { text, json: formatJson(record, options), journal: journalFields(record, text, 'nova-spawnd', traceback) };
    });
    process.stdout.write(JSON.stringify(out));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify({ records, options })], { env: { ...process.env, TZ, NODE_OPTIONS: '' } });
  return JSON.parse(out.toString()) as Ours[];
}

describe.each(cases)('$what', (spec) => {
  let theirs: Oslo;
  let mine: Ours;
  let record: LogRecord;
  beforeAll(() => {
    const options = { ...FORMAT_DEFAULTS, ...spec.options };
    [theirs] = oslo([spec], spec.options ?? {}) as [Oslo];
    record = ourRecord(spec);
    const error = spec.error && theirs.traceback !== null ? { ...spec.error, traceback: theirs.traceback } : null;
    [mine] = ours([{ record, error }], options) as [Ours];
  });

  test('ContextFormatter: the same bytes', () => {
    expect(mine.text).toBe(theirs.text);
  });

  test('JSONFormatter: the same fields and values (but the thread id)', () => {
    const json = JSON.parse(mine.json) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(Object.keys(theirs.json));
    expect({ ...json, thread: 'any' }).toEqual({ ...theirs.json, thread: 'any' });
  });

  test('OSJournalHandler: the same fields, and ours on purpose', () => {
    const { instance } = spec.context;
    const global = spec.context['global_request_id'];
    const expected: Record<string, string> = {
      ...theirs.journal,
      // journald reads the facility number (LOG_USER is 1); oslo sends Python's LOG_USER, 1 << 3.
      SYSLOG_FACILITY: '1',
      // The stack alone, not oslo's copy with every line prefixed.
      ...(theirs.traceback === null ? {} : { EXCEPTION_INFO: theirs.traceback, EXCEPTION_TEXT: theirs.traceback }),
      ...(typeof instance === 'string' ? { INSTANCE_UUID: instance } : {}),
      ...(typeof global === 'string' ? { GLOBAL_REQUEST_ID: global } : {}),
    };
    expect(theirs.journal['SYSLOG_FACILITY']).toBe('8');
    expect(Object.fromEntries(mine.journal)).toEqual(expected);
  });
});

test('what a call site adds comes after the message, as key=value; JSON keeps it under "extra"', () => {
  // domain and domain_id: a libvirt domain's name and id, as call sites log them, not the request context's.
  const context = { ...requestLogContext(NOVA_CONTEXT), instance: UUID, image: 'cirros 0.6', size: 21233664, cached: false, none: null, domain: 'instance-0000002a', domain_id: 7 };
  const spec: Case = { what: 'extra', level: 'INFO', msg: 'image downloaded', context };
  const record = ourRecord(spec);
  const { domain: _name, domain_id: _id, ...requestAndInstance } = context;
  const [withSuffix] = oslo([{ ...spec, context: requestAndInstance, msg: 'image downloaded image="cirros 0.6" size=21233664 cached=false none=null domain=instance-0000002a domain_id=7' }], {}) as [Oslo];
  const [mine] = ours([{ record, error: null }], FORMAT_DEFAULTS) as [Ours];
  expect(mine.text).toBe(withSuffix.text);

  const json = JSON.parse(formatJson(record, FORMAT_DEFAULTS)) as { message: string; extra: Record<string, unknown>; context: Record<string, unknown> };
  expect(json.message).toBe('image downloaded');
  expect(json.extra).toEqual({ cached: false, domain: 'instance-0000002a', domain_id: 7, image: 'cirros 0.6', instance_uuid: UUID, none: null, size: 21233664 });
  expect(Object.keys(json.extra)).toEqual(['cached', 'domain', 'domain_id', 'image', 'instance_uuid', 'none', 'size']);
});

test("a request context's token never reaches a line: only the logging keys are taken", () => {
  const record = ourRecord({ what: 'token', level: 'INFO', msg: 'm', context: requestLogContext(NOVA_CONTEXT) });
  for (const text of [formatRecord(record, FORMAT_DEFAULTS), formatJson(record, FORMAT_DEFAULTS), JSON.stringify(journalFields(record, 'm', 'nova-spawnd', null))]) {
    expect(text).not.toContain('gAAAA');
    expect(text).not.toContain('auth_token');
  }
});
