/** The configuration as INI text: the commented sample file, and the effective values check-config prints. */
import { allOptions, type NovaConfig, type OptionSpec, type SectionName } from './schema.js';

const MASK = '****';

/** Hides a secret but keeps what an operator needs to debug: user, hosts and vhost of a transport URL. */
export function maskSecret(value: string): string {
  if (value === '') return value;
  const url = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/i.exec(value);
  if (!url) return MASK;
  const [, scheme, rest] = url as unknown as [string, string, string];
  // rabbit://u:p@h1:5672,u2:p2@h2:5672/vhost: every userinfo of every host has its password masked.
  return scheme + rest.replace(/([^:@,/]*):[^@,/]*@/g, `$1:${MASK}@`);
}

function wrap(text: string, width = 77): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function assignments(name: string, spec: OptionSpec, value: unknown, mask: boolean): string[] {
  const shown = (text: string): string => (mask && spec.secret ? maskSecret(text) : text);
  if (spec.multi) {
    const items = value as string[];
    return items.length === 0 ? [`${name} =`] : items.map((item) => `${name} = ${shown(item)}`);
  }
  return [`${name} = ${value === null ? '' : shown(spec.oslo.format(value))}`.trimEnd()];
}

function bySection(): Map<SectionName, { name: string; spec: OptionSpec }[]> {
  const sections = new Map<SectionName, { name: string; spec: OptionSpec }[]>();
  for (const { section, name, spec } of allOptions()) {
    sections.set(section, [...(sections.get(section) ?? []), { name, spec }]);
  }
  return sections;
}

/** Like oslo-config-generator's output: every option, its help and type, its default commented out. */
export function renderSample(): string {
  const out = [
    '# nova-spawnd configuration: every option nova-spawnd reads, with its default.',
    '# Generated from src/config/schema.ts by `nova-spawnd generate-sample`; do not edit by hand.',
    "# Section and option names are Nova's, so these lines can also live in nova.conf.",
  ];
  for (const [section, options] of bySection()) {
    out.push('', `[${section}]`);
    for (const { name, spec } of options) {
      out.push('', ...wrap(spec.doc).map((line) => `# ${line}`));
      const allowed = spec.multi ? `${spec.oslo.label}; repeat the key for several values` : spec.oslo.label;
      out.push(`# (${allowed})`);
      if (!['a string', 'a boolean', 'a comma-separated list'].some((plain) => spec.oslo.allowed.startsWith(plain))) {
        out.push(...wrap(`Allowed: ${spec.oslo.allowed}`).map((line) => `# ${line}`));
      }
      for (const old of spec.deprecated) out.push(`# Deprecated group/name - [${old.section ?? section}]/${old.name ?? name}`);
      const shownDefault = spec.sample_default ?? spec.default;
      const lines =
        spec.sample_default !== undefined ? [`${name} = ${spec.sample_default}`] : assignments(name, spec, shownDefault, false);
      out.push(...lines.map((line) => `#${line}`));
    }
  }
  return `${out.join('\n')}\n`;
}

/** The values in force, secrets masked, as "section.option = value" lines (oslo's log_opt_values). */
export function effectiveLines(config: NovaConfig): string[] {
  return [...bySection()].flatMap(([section, options]) =>
    options.flatMap(({ name, spec }) =>
      assignments(name, spec, (config[section] as Record<string, unknown>)[name], true).map((line) => `${section}.${line}`),
    ),
  );
}

/** The values in force, secrets masked, in the same INI form an operator writes. */
export function renderEffective(config: NovaConfig): string {
  const out: string[] = [];
  for (const [section, options] of bySection()) {
    if (out.length > 0) out.push('');
    out.push(`[${section}]`);
    const values = config[section] as Record<string, unknown>;
    for (const { name, spec } of options) out.push(...assignments(name, spec, values[name], true));
  }
  return `${out.join('\n')}\n`;
}
