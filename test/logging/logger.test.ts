/**
 * The loggers with their handlers: journald's native protocol read back from a datagram socket the test
 * binds, levels from debug and default_log_levels, the log file across a logrotate move, JSON lines, and the
 * <N> priority prefixes on a stderr that is the journal stream.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSocket, type UnixDgramSocket } from 'unix-dgram';
import { ConfigError } from '../../src/config/config-error.js';
import { configureLogging, getLogger, requestLogContext, setLogSink } from '../../src/log.js';
import { connectedToJournal, withPriorityPrefix } from '../../src/logging/handlers.js';
import { JOURNAL_VALUE_MAX } from '../../src/logging/journal-entry.js';
import { LOGGING_DEFAULTS, type LoggingOptions } from '../../src/logging/options.js';
import { cli } from '../cli/run-cli.js';

const UUID = '0c4f3b52-7d1e-4e55-a3c1-1f0b9a8c7d6e';
const CONTEXT = { request_id: 'req-11111111-2222-3333-4444-555555555555', user_id: 'u-1', project_id: 'p-1', global_request_id: 'req-g' };
const THIS_FILE = fileURLToPath(import.meta.url);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logging-'));
});
afterEach(() => {
  // Back to what the other tests of this worker expect: oslo's defaults, on stderr.
  configureLogging(LOGGING_DEFAULTS);
  rmSync(dir, { recursive: true, force: true });
});

const options = (overrides: Partial<LoggingOptions>): LoggingOptions => ({ ...LOGGING_DEFAULTS, ...overrides });

/** journald's native protocol: KEY=value\n, or KEY\n + 64-bit little-endian length + bytes + \n. */
function parseJournalEntry(datagram: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let at = 0;
  while (at < datagram.length) {
    const newline = datagram.indexOf(0x0a, at);
    const line = datagram.subarray(at, newline).toString();
    const equals = line.indexOf('=');
    if (equals !== -1) {
      fields[line.slice(0, equals)] = line.slice(equals + 1);
      at = newline + 1;
      continue;
    }
    const length = Number(datagram.readBigUInt64LE(newline + 1));
    const start = newline + 9;
    fields[line] = datagram.subarray(start, start + length).toString();
    expect(datagram[start + length]).toBe(0x0a);
    at = start + length + 1;
  }
  return fields;
}

describe('use_journal: native datagrams to the journal socket', () => {
  let receiver: UnixDgramSocket;
  let received: Buffer[];
  beforeEach(() => {
    received = [];
    receiver = createSocket('unix_dgram', (message) => received.push(message));
    receiver.bind(join(dir, 'journal'));
  });
  afterEach(() => receiver.close());

  const datagrams = async (count: number): Promise<Record<string, string>[]> => {
    while (received.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    return received.map(parseJournalEntry);
  };

  test('an info and an error line: priorities 6 and 3, the request and instance fields, the stack as one field', async () => {
    configureLogging(options({ use_journal: true }), join(dir, 'journal'));
    const log = getLogger('nova_spawnd.compute.manager');
    log.info('spawning', { ...requestLogContext(CONTEXT), instance: UUID });
    const failure = new Error('no space left on device');
    function spawnStep(): void {
      log.error('Instance failed to spawn', { ...requestLogContext(CONTEXT), instance: UUID }, failure);
    }
    spawnStep();
    const [info, error] = await datagrams(2);

    expect(info).toMatchObject({
      PRIORITY: '6',
      SYSLOG_IDENTIFIER: 'nova-spawnd',
      SYSLOG_FACILITY: '1',
      LOGGER_NAME: 'nova_spawnd.compute.manager',
      LOGGER_LEVEL: 'INFO',
      REQUEST_ID: CONTEXT.request_id,
      GLOBAL_REQUEST_ID: 'req-g',
      USER_ID: 'u-1',
      PROJECT_ID: 'p-1',
      INSTANCE_UUID: UUID,
      CODE_FILE: THIS_FILE,
      THREAD_NAME: 'MainThread',
      PROCESS_NAME: 'MainProcess',
    });
    expect(info!['MESSAGE']).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${process.pid} INFO nova_spawnd.compute.manager \\[req-g ${CONTEXT.request_id} u-1 p-1 - - - -\\] \\[instance: ${UUID}\\] spawning$`),
    );
    expect(error).toMatchObject({ PRIORITY: '3', LOGGER_LEVEL: 'ERROR', CODE_FUNC: 'spawnStep', INSTANCE_UUID: UUID, EXCEPTION_INFO: failure.stack, EXCEPTION_TEXT: failure.stack });
    expect(Number(error!['CODE_LINE'])).toBeGreaterThan(0);
    expect(error!['MESSAGE']!.split('\n')[0]).toMatch(/\[instance: \S+\] Instance failed to spawn: Error: no space left on device$/);
    expect(error!['MESSAGE']!.split('\n')[1]).toMatch(new RegExp(`^\\S+ \\S+ ${process.pid} ERROR nova_spawnd.compute.manager \\[instance: ${UUID}\\] Error: no space left on device$`));
  });

  test('a value over the datagram budget is cut, saying by how much; the entry still arrives', async () => {
    configureLogging(options({ use_journal: true }), join(dir, 'journal'));
    getLogger('nova_spawnd').warning('x'.repeat(300_000));
    const [entry] = await datagrams(1);
    expect(entry!['PRIORITY']).toBe('4');
    expect(entry!['MESSAGE']!.length).toBeLessThan(JOURNAL_VALUE_MAX + 100);
    expect(entry!['MESSAGE']).toMatch(/x \[truncated: \d+ more bytes\]$/);
  });

  test('a journal that is not there: each line goes to stderr instead, the daemon carries on', () => {
    const script = `
      import { configureLogging, getLogger } from ${JSON.stringify(new URL('../../dist/src/log.js', import.meta.url).href)};
      configureLogging({ ...(await import(${JSON.stringify(new URL('../../dist/src/logging/options.js', import.meta.url).href)})).LOGGING_DEFAULTS, use_journal: true }, ${JSON.stringify(join(dir, 'nobody'))});
      getLogger('nova_spawnd').info('first');
      getLogger('nova_spawnd').info('second');
      process.exit(0);`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(result.status).toBe(0);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`--- Logging error: unix datagram to ${join(dir, 'nobody')}: ENOENT ---`);
    expect(lines[1]).toMatch(/ INFO nova_spawnd \[-\] first$/);
    expect(lines[2]).toMatch(/ INFO nova_spawnd \[-\] second$/);
  });
});

describe('levels', () => {
  test('debug lets DEBUG through with the caller after it; default_log_levels quietens a logger and those under it', () => {
    const lines: string[] = [];
    configureLogging(options({ debug: true, default_log_levels: [...LOGGING_DEFAULTS.default_log_levels, 'nova_spawnd.bus=WARNING', 'nova_spawnd.bus.rpc=DEBUG'] }));
    setLogSink((line) => void lines.push(line));
    function reportResources(): void {
      getLogger('nova_spawnd.compute').debug('resources reported');
    }
    reportResources();
    getLogger('nova_spawnd.bus').info('bus info: hidden');
    getLogger('nova_spawnd.bus.consumer').info('consumer info: hidden');
    getLogger('nova_spawnd.bus.consumer').warning('consumer warning: shown');
    getLogger('nova_spawnd.bus.rpc').debug('rpc debug: shown');
    getLogger('nova_spawnd.busy').debug('not under nova_spawnd.bus: shown');

    expect(lines.map((line) => line.replace(/^\S+ \S+ \d+ /, ''))).toEqual([
      expect.stringMatching(new RegExp(`^DEBUG nova_spawnd.compute \\[-\\] resources reported reportResources ${THIS_FILE}:\\d+\\n$`)),
      'WARNING nova_spawnd.bus.consumer [-] consumer warning: shown\n',
      expect.stringMatching(/^DEBUG nova_spawnd.bus.rpc \[-\] rpc debug: shown <anonymous> \S+:\d+\n$/),
      expect.stringMatching(/^DEBUG nova_spawnd.busy \[-\] not under nova_spawnd.bus: shown/),
    ]);
  });

  test('without debug, INFO and above', () => {
    const lines: string[] = [];
    configureLogging(options({}));
    setLogSink((line) => void lines.push(line));
    getLogger('nova_spawnd').debug('hidden');
    getLogger('nova_spawnd').info('shown');
    expect(lines).toHaveLength(1);
  });
});

describe('log_file and log_dir', () => {
  test('log_dir alone: nova-spawnd.log in it, reopened after logrotate moves it', () => {
    configureLogging(options({ log_dir: dir }));
    const log = getLogger('nova_spawnd');
    log.info('before rotation');
    renameSync(join(dir, 'nova-spawnd.log'), join(dir, 'nova-spawnd.log.1'));
    log.info('after rotation');
    expect(readFileSync(join(dir, 'nova-spawnd.log.1'), 'utf8')).toMatch(/^\S+ \S+ \d+ INFO nova_spawnd \[-\] before rotation\n$/);
    expect(readFileSync(join(dir, 'nova-spawnd.log'), 'utf8')).toMatch(/^\S+ \S+ \d+ INFO nova_spawnd \[-\] after rotation\n$/);
  });

  test('log_file under log_dir, as JSON with use_json', () => {
    configureLogging(options({ log_dir: dir, log_file: 'compute.log', use_json: true }));
    getLogger('nova_spawnd.compute').info('spawned', { instance: UUID, took: 2.5 });
    const record = JSON.parse(readFileSync(join(dir, 'compute.log'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ message: 'spawned', name: 'nova_spawnd.compute', levelname: 'INFO', extra: { instance_uuid: UUID, took: 2.5 }, context: {} });
  });

  test('a log file that cannot be opened is a configuration error naming log_file', () => {
    const path = join(dir, 'missing', 'nova-spawnd.log');
    expect(() => configureLogging(options({ log_file: path }))).toThrow(ConfigError);
    expect(() => configureLogging(options({ log_file: path }))).toThrow(new RegExp(`\\[DEFAULT\\] log_file = "${path}": cannot open ${path}: ENOENT`));
  });
});

describe('stderr as the journal stream', () => {
  test('each line of a record gets its priority prefix', () => {
    expect(withPriorityPrefix('line one\nline two', 40)).toBe('<3>line one\n<3>line two');
    expect(withPriorityPrefix('info', 20)).toBe('<6>info');
    expect(withPriorityPrefix('debug', 10)).toBe('<7>debug');
  });

  test('only when $JOURNAL_STREAM names the device and inode of that very fd', () => {
    const fd = openSync(join(dir, 'stream'), 'w');
    try {
      const { dev, ino } = fstatSync(fd);
      expect(connectedToJournal(fd, `${dev}:${ino}`)).toBe(true);
      expect(connectedToJournal(fd, `${dev}:${ino + 1}`)).toBe(false);
      expect(connectedToJournal(fd, undefined)).toBe(false);
    } finally {
      closeSync(fd);
    }
  });

  /** Runs check-config with stderr on a file that $JOURNAL_STREAM names, as systemd would; returns that stderr. */
  function underSystemd(configFile: string): string {
    const path = join(dir, 'stderr');
    const fd = openSync(path, 'w');
    try {
      const { dev, ino } = fstatSync(fd);
      spawnSync(process.execPath, [cli, 'check-config', '--config-file', configFile], {
        stdio: ['ignore', 'pipe', fd],
        env: { ...process.env, NODE_OPTIONS: '', JOURNAL_STREAM: `${dev}:${ino}` },
      });
    } finally {
      closeSync(fd);
    }
    return readFileSync(path, 'utf8');
  }

  test('the command under systemd: <4> before a warning, <3> before an error', () => {
    writeFileSync(join(dir, 'nova.conf'), '[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver\n');
    expect(underSystemd(join(dir, 'nova.conf'))).toMatch(/^<4>\S+ \S+ \d+ WARNING nova_spawnd.config \[-\] .*ignoring options nova-spawnd does not use: \[DEFAULT\] compute_driver\n$/);
    expect(underSystemd(join(dir, 'missing.conf'))).toMatch(/^<3>\S+ \S+ \d+ ERROR nova_spawnd \[-\] .*missing\.conf/);
  });
});
