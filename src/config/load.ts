/**
 * Reads nova.conf-style files into a validated NovaConfig, the way oslo.config would: later files override
 * earlier ones, multi-valued options gather every value from every file, values are substituted then parsed.
 * Options and sections we do not know are Nova's own and only warned about, so an operator's real nova.conf
 * loads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import convict from 'convict';
import { ConfigError, ConfigFileError, type ConfigProblem, type ValueSource } from './config-error.js';
import { parseIni, type IniSections } from './ini.js';
import { candidates, InterpolationError, substitute } from './interpolate.js';
import { InvalidOptionValue } from './oslo-types.js';
import { allOptions, schema, type NovaConfig, type OptionSpec } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/nova/nova-spawnd.conf';

export interface LoadedConfig {
  config: NovaConfig;
  /** Files actually read, in order. */
  files: string[];
  /** "section.option" of every option some file set, e.g. to tell an explicit mkisofs_cmd from the default. */
  explicitlySet: ReadonlySet<string>;
  warnings: string[];
}

interface ParsedFile {
  path: string;
  sections: IniSections;
}

interface RawValue {
  value: string;
  source?: ValueSource;
}

function readFiles(paths: readonly string[], optional: boolean): ParsedFile[] {
  return paths.flatMap((path) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (optional && code === 'ENOENT') return [];
      throw new ConfigFileError(path, code === 'ENOENT' ? 'no such file' : (error as Error).message);
    }
    return [{ path, sections: parseIni(text, path) }];
  });
}

/**
 * oslo.config's --config-dir: the directory's `*.conf` files, sorted (glob's, so not hidden ones), a leading
 * ~ expanded. A directory that does not exist is an error (ConfigDirNotFoundError), an empty one is not.
 */
export function configDirFiles(dir: string): string[] {
  const path = dir === '~' || dir.startsWith('~/') ? join(homedir(), dir.slice(1)) : dir;
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigFileError(dir, code === 'ENOENT' ? 'no such directory (--config-dir)' : code === 'ENOTDIR' ? 'not a directory (--config-dir)' : (error as Error).message);
  }
  return names
    .filter((name) => name.endsWith('.conf') && !name.startsWith('.'))
    .sort()
    .map((name) => join(path, name));
}

/** Every (section, name) some option is read from, deprecated places included. */
function knownNames(): Set<string> {
  return new Set(
    allOptions().flatMap(({ section, name, spec }) => [
      `${section}.${name}`,
      ...spec.deprecated.map((d) => `${d.section ?? section}.${d.name ?? name}`),
    ]),
  );
}

function unknownEntries({ path, sections }: ParsedFile, known: Set<string>): string | null {
  const knownSections = new Set([...known].map((key) => key.slice(0, key.indexOf('.'))));
  const ignored: string[] = [];
  for (const [section, options] of sections) {
    if (!knownSections.has(section)) {
      ignored.push(`[${section}] (whole section)`);
      continue;
    }
    const unknown = [...options.keys()].filter((name) => !known.has(`${section}.${name}`));
    if (unknown.length > 0) ignored.push(`[${section}] ${unknown.join(', ')}`);
  }
  return ignored.length > 0 ? `${path}: ignoring options nova-spawnd does not use: ${ignored.join('; ')}` : null;
}

/**
 * The raw strings for one option, as oslo's _get_file_value picks them: the last file that sets it wins,
 * under its own name before its deprecated ones; a multi-valued option keeps every value of every file,
 * each file's deprecated names first.
 */
function rawValues(files: ParsedFile[], section: string, name: string, spec: OptionSpec, warnings: string[]): RawValue[] {
  const names = [{ section, name }, ...spec.deprecated.map((d) => ({ section: d.section ?? section, name: d.name ?? name }))];
  const perFile = files.map(({ path, sections }) =>
    names.map((candidate, index) => {
      const assignments = sections.get(candidate.section)?.get(candidate.name) ?? [];
      if (index > 0 && assignments.length > 0) {
        warnings.push(`${path}: [${candidate.section}] ${candidate.name} is deprecated: use [${section}] ${name}`);
      }
      return assignments.map((a) => ({ value: a.value, source: { file: path, line: a.line } }));
    }),
  );
  if (spec.multi) return perFile.flatMap((byName) => byName.reverse().flat());
  const lastFile = perFile.reverse().find((byName) => byName.some((values) => values.length > 0));
  return lastFile ? lastFile.find((values) => values.length > 0)!.slice(-1) : [];
}

/** A default that only fails because an option it refers to is broken would repeat that option's problem. */
function withoutEchoes(problems: ConfigProblem[]): ConfigProblem[] {
  const reported = new Set(problems.filter((p) => p.source).map((p) => p.reason));
  return problems.filter((p) => p.source || !reported.has(p.reason));
}

/** File order then line order, so the operator reads the problems top to bottom; defaults last. */
function bySource(paths: string[]): (a: ConfigProblem, b: ConfigProblem) => number {
  const rank = (p: ConfigProblem): [number, number] =>
    p.source ? [paths.indexOf(p.source.file), p.source.line] : [paths.length, 0];
  return (a, b) => {
    const [fa, la] = rank(a);
    const [fb, lb] = rank(b);
    return fa - fb || la - lb;
  };
}

export function loadConfig(paths: readonly string[], options: { optional?: boolean } = {}): LoadedConfig {
  const files = readFiles(paths, options.optional ?? false);
  const known = knownNames();
  const warnings = files.map((file) => unknownEntries(file, known)).filter((w): w is string => w !== null);
  const problems: ConfigProblem[] = [];
  const explicitlySet = new Set<string>();

  const raw = new Map<string, RawValue[] | null>();
  const specs = new Map<string, OptionSpec>();
  for (const { section, name, spec } of allOptions()) {
    const key = `${section}.${name}`;
    specs.set(key, spec);
    const values = rawValues(files, section, name, spec, warnings);
    if (values.length > 0) explicitlySet.add(key);
    // A default that is a string is a template too (instances_path = $state_path/instances); others are typed.
    raw.set(key, values.length > 0 ? values : typeof spec.default === 'string' ? [{ value: spec.default }] : null);
  }

  const substituted = new Map<string, string>();
  const resolving = new Set<string>();
  /** The option's substituted string, as another option's template sees it. */
  const resolve = (key: string): string => {
    const done = substituted.get(key);
    if (done !== undefined) return done;
    if (resolving.has(key)) throw new InterpolationError(key, 'refers back to itself');
    resolving.add(key);
    try {
      const values = raw.get(key);
      const spec = specs.get(key)!;
      const text = values
        ? values.map((v) => substitute(v.value, (ref) => resolve(referenced(ref, key)))).join(',')
        : spec.default === null
          ? ''
          : spec.oslo.format(spec.default);
      substituted.set(key, text);
      return text;
    } finally {
      resolving.delete(key);
    }
  };
  const referenced = (reference: string, fromKey: string): string => {
    const section = fromKey.slice(0, fromKey.indexOf('.'));
    const found = candidates(reference, section)
      .map(([s, n]) => `${s}.${n}`)
      .find((key) => raw.has(key));
    if (!found) throw new InterpolationError(reference, 'is not an option nova-spawnd knows');
    return found;
  };

  const values: Record<string, Record<string, unknown>> = {};
  for (const [key, spec] of specs) {
    const [section, name] = key.split('.') as [string, string];
    values[section] ??= {};
    const entries = raw.get(key);
    if (!entries) {
      values[section][name] = spec.default;
      continue;
    }
    const parsed: unknown[] = [];
    for (const entry of entries) {
      let text = entry.value;
      try {
        text = substitute(entry.value, (ref) => resolve(referenced(ref, key)));
        parsed.push(spec.oslo.parse(text));
      } catch (error) {
        if (!(error instanceof InvalidOptionValue || error instanceof InterpolationError)) throw error;
        problems.push({ section, option: name, value: text, reason: error.message, ...(entry.source ? { source: entry.source } : {}) });
      }
    }
    values[section][name] = spec.multi ? parsed.flat() : parsed[0];
  }
  if (problems.length > 0) throw new ConfigError(withoutEchoes(problems).sort(bySource(files.map((f) => f.path))));

  const config = convict<NovaConfig>(schema as unknown as convict.Schema<NovaConfig>);
  config.load(values);
  // Every value was parsed above; this catches a default that breaks its own option's rules.
  config.validate({ allowed: 'strict' });
  return { config: config.getProperties(), files: files.map((f) => f.path), explicitlySet, warnings };
}
