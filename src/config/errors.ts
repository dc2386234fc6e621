/** One problem found in a file the user wrote: where it is and what is wrong. */
export interface Problem {
  file: string;
  line?: number;
  /** The config key or rule id the problem belongs to. */
  where?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const loc = p.line ? `${p.file}:${p.line}` : p.file;
  return p.where ? `${loc}: ${p.where}: ${p.message}` : `${loc}: ${p.message}`;
}

/** A configuration that cannot be used; `serve` prints each problem on one line and exits 2. */
export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

/** The rules folder cannot be used at start (invalid, or its tests fail): `serve` prints each problem and exits 1. */
export class RulesInvalidError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`the rules folder is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
}
