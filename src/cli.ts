#!/usr/bin/env node
import { ConnectionLost } from './bus/connection-lost.js';
import { EnvelopeError } from './bus/envelope-error.js';
import { ConfigError, ConfigFileError } from './config/config-error.js';
import { MalformedIsoError } from './configdrive/iso9660/index.js';
import { MalformedVfatError } from './configdrive/vfat/index.js';
import { MetadataOptionsError } from './metadata/options.js';
import { VendorDataFileError } from './metadata/vendor-data.js';
import { InvalidComputeRequest } from './nova/invalid-compute-request.js';
import { IniParseError } from './config/ini.js';
import { renderSample } from './config/render.js';
import { checkConfig, checkConfigHelp } from './cli/check-config.js';
import { deadLetters, deadLettersHelp } from './cli/dead-letters.js';
import { drive, DriveExistsError, driveHelp } from './cli/drive.js';
import { EX_CANTCREAT, EX_CONFIG, EX_DATAERR, EX_NOINPUT, EX_OK, EX_SOFTWARE, EX_TEMPFAIL, EX_USAGE } from './cli/exit-codes.js';
import { OperationFailed } from './compute/operation-failed.js';
import { run, runHelp } from './cli/run.js';
import { spawn, spawnHelp } from './cli/spawn.js';
import { UsageError } from './cli/usage-error.js';
import { getLogger } from './log.js';
import { VERSION } from './version.js';

type Command = (args: string[]) => number | Promise<number>;

const commands: Record<string, { help: string; command: Command }> = {
  run: { help: runHelp, command: run },
  'check-config': { help: checkConfigHelp, command: checkConfig },
  drive: { help: driveHelp, command: drive },
  spawn: { help: spawnHelp, command: spawn },
  'dead-letters': { help: deadLettersHelp, command: deadLetters },
  'generate-sample': {
    help: 'usage: nova-spawnd generate-sample\n\nPrints etc/nova-spawnd.conf.sample: every option, its help and default.',
    command: () => {
      process.stdout.write(renderSample());
      return EX_OK;
    },
  },
};

const usage = `usage: nova-spawnd COMMAND [OPTIONS]

Commands:
  run              run the daemon (what systemd starts)
  check-config     print the effective configuration; exit 0 if valid, 78 if not
  drive            build a config drive from a spawn message, or list/read one (drive --help)
  spawn            run the spawn pipeline once for one message, without the bus (or --dry-run)
  dead-letters     list the messages in the dead-letter queue, or replay them (dead-letters --help)
  generate-sample  print the sample configuration file

nova-spawnd COMMAND --help describes a command. nova-spawnd --version prints ${VERSION}.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return EX_OK;
  }
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? EX_USAGE : EX_OK;
  }
  const entry = commands[name];
  if (!entry) throw new UsageError(`unknown command "${name}"\n\n${usage}`);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${entry.help}\n`);
    return EX_OK;
  }
  return entry.command(args);
}

const CONFIG_ERRORS = [ConfigError, ConfigFileError, IniParseError, VendorDataFileError, MetadataOptionsError];
/** Bad input data: a message or an image that cannot be decoded (sysexits EX_DATAERR). */
const DATA_ERRORS = [EnvelopeError, InvalidComputeRequest, MalformedIsoError, MalformedVfatError];

function exitCodeFor(error: unknown): number {
  if (CONFIG_ERRORS.some((type) => error instanceof type)) return EX_CONFIG;
  if (DATA_ERRORS.some((type) => error instanceof type)) return EX_DATAERR;
  if (error instanceof DriveExistsError) return EX_CANTCREAT;
  // The broker could not be reached or went away: trying again later may work.
  if (error instanceof ConnectionLost) return EX_TEMPFAIL;
  // A spawn that may work when retried (libvirt or Glance away) differs from one that never will.
  if (error instanceof OperationFailed) return error.transient ? EX_TEMPFAIL : EX_DATAERR;
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EX_NOINPUT;
  // util.parseArgs reports unknown or malformed options with these codes.
  const code = (error as { code?: string }).code;
  if (error instanceof UsageError || (code !== undefined && code.startsWith('ERR_PARSE_ARGS'))) return EX_USAGE;
  return EX_SOFTWARE;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = exitCodeFor(error);
    // A bug gets its stack; an operator's mistake gets only the message that names it.
    const log = getLogger('nova_spawnd');
    if (code === EX_SOFTWARE) log.error('Unhandled error', {}, error);
    else log.error(String((error as Error).message ?? error));
    process.exit(code);
  },
);
