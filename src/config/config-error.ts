/** Where a value came from, so an error can point the operator at the exact line. */
export interface ValueSource {
  file: string;
  line: number;
}

export interface ConfigProblem {
  section: string;
  option: string;
  value: string;
  /** What is wrong, or what would be accepted. */
  reason: string;
  /** Absent for a default value. */
  source?: ValueSource;
}

export function describeProblem(problem: ConfigProblem): string {
  const where = problem.source ? `${problem.source.file}:${problem.source.line}: ` : '(default) ';
  return `${where}[${problem.section}] ${problem.option} = ${JSON.stringify(problem.value)}: ${problem.reason}`;
}

/** The configuration cannot be used; the daemon must not start (exit 78, EX_CONFIG). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: ConfigProblem[],
    summary = 'invalid configuration',
  ) {
    super([summary, ...problems.map((problem) => `  ${describeProblem(problem)}`)].join('\n'));
  }
}

/** A file the configuration needs cannot be read or parsed. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`configuration file ${file}: ${reason}`);
  }
}
