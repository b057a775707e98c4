/**
 * The INI dialect of oslo.config (oslo_config/iniparser.py), not the `ini` package's: a repeated key keeps
 * every value (MultiStrOpt needs them), indented lines continue the previous value, `#` and `;` start
 * comments only at the beginning of a line, `key: value` works like `key = value`, and one pair of matching
 * quotes around a value is stripped. Section names other than DEFAULT are case-insensitive.
 */

export interface IniAssignment {
  value: string;
  line: number;
}

/** section -> key -> every assignment in file order. */
export type IniSections = Map<string, Map<string, IniAssignment[]>>;

export class IniParseError extends Error {
  override readonly name = 'IniParseError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
    readonly text: string,
  ) {
    super(`${file}:${line}: ${reason}: ${JSON.stringify(text)}`);
  }
}

export function normalizeSectionName(section: string): string {
  return section === 'DEFAULT' ? section : section.toLowerCase();
}

function splitKeyValue(line: string): [string, string] | null {
  const colon = line.indexOf(':');
  const equal = line.indexOf('=');
  if (colon < 0 && equal < 0) return null;
  const at = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
  let value = line.slice(at + 1).trim();
  if (value.length >= 2 && value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'")) {
    value = value.slice(1, -1);
  }
  return [line.slice(0, at).trim(), value];
}

export function parseIni(text: string, file: string): IniSections {
  const sections: IniSections = new Map();
  let section: Map<string, IniAssignment[]> | null = null;
  let pending: { key: string; parts: string[]; line: number } | null = null;

  const flush = (): void => {
    if (!pending || !section) return;
    const assignments = section.get(pending.key) ?? [];
    assignments.push({ value: pending.parts.join('\n'), line: pending.line });
    section.set(pending.key, assignments);
    pending = null;
  };

  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trimEnd();
    if (line === '') {
      flush();
      return;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (!pending) throw new IniParseError(file, lineNo, 'unexpected continuation line', line);
      pending.parts.push(line.trimStart());
      return;
    }
    flush();
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new IniParseError(file, lineNo, 'invalid section (must end with ])', line);
      if (line.length <= 2) throw new IniParseError(file, lineNo, 'empty section name', line);
      const name = normalizeSectionName(line.slice(1, -1));
      section = sections.get(name) ?? new Map();
      sections.set(name, section);
      return;
    }
    if (line.startsWith('#') || line.startsWith(';')) return;
    const pair = splitKeyValue(line);
    if (!pair) throw new IniParseError(file, lineNo, "no ':' or '=' found in assignment", line);
    const [key, value] = pair;
    if (!key) throw new IniParseError(file, lineNo, 'key cannot be empty', line);
    if (!section) throw new IniParseError(file, lineNo, 'section must be started before assignment', line);
    pending = { key, parts: [value], line: lineNo };
  });
  flush();
  return sections;
}
