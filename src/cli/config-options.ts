import { DEFAULT_CONFIG_FILE, loadConfig, type LoadedConfig } from '../config/load.js';
import { getLogger } from '../log.js';

/** The --config-file option every subcommand takes, repeatable like oslo.config's. */
export const configFileOption = { 'config-file': { type: 'string', multiple: true } } as const;

/** Named files must exist; with none named, the default file is read when present and defaults apply otherwise. */
export function loadFromArgs(configFiles: string[] | undefined): LoadedConfig {
  const named = configFiles && configFiles.length > 0;
  const loaded = loadConfig(named ? configFiles : [DEFAULT_CONFIG_FILE], { optional: !named });
  const log = getLogger('nova_spawnd.config');
  if (loaded.files.length === 0) log.warning(`${DEFAULT_CONFIG_FILE} not found: running on built-in defaults`);
  for (const warning of loaded.warnings) log.warning(warning);
  return loaded;
}
