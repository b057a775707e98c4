/**
 * Which records a logger lets through, as Python's logging decides: a logger's level is the nearest one set
 * on it or a dotted ancestor (default_log_levels sets them), else the root's ([DEFAULT] debug: DEBUG or INFO).
 */
import { LEVELS } from './record.js';

/** logging's level names, or an integer, as Logger.setLevel takes them (oslo.log tries int() first). */
export function parseLevel(text: string): number | null {
  if (/^-?\d+$/.test(text)) return Number(text);
  return Object.hasOwn(LEVELS, text) ? LEVELS[text as keyof typeof LEVELS] : null;
}

/** One default_log_levels item, logger=LEVEL, or why it is not one. */
export function parseLevelPair(item: string): { logger: string; level: number } {
  const at = item.indexOf('=');
  const logger = at === -1 ? item : item.slice(0, at);
  const level = parseLevel(at === -1 ? '' : item.slice(at + 1));
  if (logger === '' || level === null) throw new Error(`"${item}" is not logger=LEVEL with LEVEL one of ${Object.keys(LEVELS).join(', ')} or an integer`);
  return { logger, level };
}

export function levelsByLogger(pairs: readonly string[]): Map<string, number> {
  return new Map(pairs.map(parseLevelPair).map(({ logger, level }) => [logger, level]));
}

/** The level of logger `name`: its own or its nearest ancestor's (NOTSET, 0, defers upward), else the root's. */
export function effectiveLevel(name: string, levels: ReadonlyMap<string, number>, root: number): number {
  for (let prefix = name; prefix !== ''; prefix = prefix.includes('.') ? prefix.slice(0, prefix.lastIndexOf('.')) : '') {
    const level = levels.get(prefix);
    if (level !== undefined && level !== LEVELS.NOTSET) return level;
  }
  return root;
}
