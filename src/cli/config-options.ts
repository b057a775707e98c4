import { parseArgs } from 'node:util';
import { configDirFiles, DEFAULT_CONFIG_FILE, loadConfig, type LoadedConfig } from '../config/load.js';
import { getLogger } from '../log.js';

/** The --config-file and --config-dir options every subcommand takes, repeatable like oslo.config's. */
export const configFileOption = {
  'config-file': { type: 'string', multiple: true },
  'config-dir': { type: 'string', multiple: true },
} as const;

/**
 * The configuration a subcommand's `args` name, read as oslo.config reads them: each --config-file, and each
 * --config-dir's *.conf files sorted, in command-line order, a later value overriding an earlier one (the
 * argparse actions of _ConfigFileOpt and _ConfigDirOpt). Named files and directories must exist; with no
 * --config-file, the default file is read first when present, and defaults apply otherwise.
 */
export function loadFromArgs(args: readonly string[]): LoadedConfig {
  // The subcommand's own strict parse has checked `args`; this one only finds the two options, in order.
  const { tokens } = parseArgs({ args: [...args], options: configFileOption, strict: false, allowPositionals: true, tokens: true });
  const named = tokens.flatMap((token) => (token.kind === 'option' && token.name in configFileOption && token.value !== undefined ? [{ name: token.name, value: token.value }] : []));
  const explicitFiles = named.some(({ name }) => name === 'config-file');
  const paths = named.flatMap(({ name, value }) => (name === 'config-dir' ? configDirFiles(value) : [value]));
  const loaded = loadConfig(explicitFiles ? paths : [DEFAULT_CONFIG_FILE, ...paths], { optional: !explicitFiles });
  const log = getLogger('nova_spawnd.config');
  if (loaded.files.length === 0) log.warning(`${DEFAULT_CONFIG_FILE} not found: running on built-in defaults`);
  for (const warning of loaded.warnings) log.warning(warning);
  return loaded;
}
