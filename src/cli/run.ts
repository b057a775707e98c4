import { parseArgs } from 'node:util';
import { effectiveLines } from '../config/render.js';
import { getLogger, setDebug } from '../log.js';
import { VERSION } from '../version.js';
import { configFileOption, loadFromArgs } from './config-options.js';
import { EX_OK } from './exit-codes.js';

export const runHelp = `usage: nova-spawnd run [--config-file FILE]...

Runs the daemon in the foreground (what the systemd unit starts). SIGTERM or SIGINT stops it.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: configFileOption, strict: true });
  // Before anything is logged: a supervisor may signal as soon as it sees us start.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const loaded = loadFromArgs(values['config-file']);
  setDebug(loaded.config.DEFAULT.debug);
  const log = getLogger('nova_spawnd');
  log.info(`nova-spawnd ${VERSION} starting`, { host: loaded.config.DEFAULT.host, files: loaded.files.join(',') || 'none' });
  for (const line of effectiveLines(loaded.config)) log.debug(line);
  // Honest about what this release does: the bus consumer lands with its own issue; until then we only idle.
  log.warning('the message bus consumer is not implemented in this release: no instance will be spawned');

  // Signal handlers do not keep Node's event loop alive; until the bus connection does, this timer must.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const signal = await stopped;
  clearInterval(keepAlive);
  log.info(`received ${signal}, exiting`);
  return EX_OK;
}
