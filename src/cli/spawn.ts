import { parseArgs } from 'node:util';
import { composeSpawner } from '../compute/compose.js';
import { getLogger } from '../log.js';
import { configFileOption, loadFromArgs } from './config-options.js';
import { EX_OK } from './exit-codes.js';
import { ProgressBar } from './progress-bar.js';
import { readSpawnMessage, spawnSourceOptions } from './spawn-source.js';

export const spawnHelp = `usage: nova-spawnd spawn (--request FILE | --message FILE) [--dry-run] [--config-file FILE]... [--config-dir DIR]...

Runs the spawn pipeline once, without the bus: image cache and disks, domain definition, config drive,
start, exactly as the daemon does for a message. --message takes the raw body of a build_and_run_instance
cast, --request our plain JSON request; FILE "-" is standard input. --dry-run creates nothing and prints
the domain XML and the config drive's files. On a terminal, an image download shows a progress bar.`;

export async function spawn(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...configFileOption, ...spawnSourceOptions, 'dry-run': { type: 'boolean' } }, strict: true });
  const loaded = loadFromArgs(args);
  const { request } = await readSpawnMessage(values);
  const log = getLogger('nova_spawnd');
  // On a terminal, a progress bar for the image download.
  const bar = ProgressBar.forTerminal(process.stderr);
  const spawner = await composeSpawner(loaded, log, bar ? { downloadListener: bar } : {});
  try {
    if (values['dry-run']) {
      const plan = spawner.pipeline.dryRun(request);
      const files = plan.drive ? [...plan.drive].map(([path, data]) => `${String(data.length).padStart(9)} /${path}`) : ['(no config drive: not required)'];
      process.stdout.write(`${plan.xml.trimEnd()}\n\n# config drive\n${files.join('\n')}\n`);
      return EX_OK;
    }
    const result = await spawner.pipeline.spawn(request);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return EX_OK;
  } finally {
    bar?.finish();
    await spawner.close();
  }
}
