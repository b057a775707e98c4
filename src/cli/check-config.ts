import { parseArgs } from 'node:util';
import { renderEffective } from '../config/render.js';
import { configFileOption, loadFromArgs } from './config-options.js';
import { EX_OK } from './exit-codes.js';

export const checkConfigHelp = `usage: nova-spawnd check-config [--config-file FILE]... [--config-dir DIR]...

Loads the configuration exactly as \`nova-spawnd run\` would and prints the values in force (secrets masked).
Exits 0 when it is valid, 78 when it is not.`;

export function checkConfig(args: string[]): number {
  parseArgs({ args, options: configFileOption, strict: true });
  const loaded = loadFromArgs(args);
  const files = loaded.files.length > 0 ? loaded.files.join(', ') : '(none: built-in defaults)';
  process.stdout.write(`# configuration files read: ${files}\n${renderEffective(loaded.config)}`);
  return EX_OK;
}
