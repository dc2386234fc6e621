import { ConfigError, formatProblem, RulesInvalidError } from '../config/errors.js';
import { StoreUnavailableError, StoreVersionError } from '../store/errors.js';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

/** A failure the user can fix: printed as one line (no stack), then the process exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT_PROBLEMS,
  ) {
    super(message);
  }
}

// Terminal control characters (C0 but tab and newline, DEL, C1): from event data they could
// rewrite the operator's screen, retitle the window or hide lines.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * A line safe for a terminal: control characters are shown as `\u001b` escapes. In JSON output
 * (where only DEL and C1 can appear raw) that is the same string, still valid JSON.
 */
export function terminalSafe(line: string): string {
  return line.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function print(line = ''): void {
  process.stdout.write(`${terminalSafe(line)}\n`);
}

export function printError(line: string): void {
  process.stderr.write(`notion-rules: ${terminalSafe(line)}\n`);
}

/** Maps known errors to their lines and exit codes; anything else is a bug and keeps its stack. */
export function reportError(err: unknown): number {
  if (err instanceof ConfigError) {
    for (const p of err.problems) printError(`config error: ${formatProblem(p)}`);
    return EXIT_USAGE;
  }
  if (err instanceof RulesInvalidError) {
    for (const p of err.problems) printError(`rules: ${formatProblem(p)}`);
    printError(`not starting: ${err.message}; fix it (notion-rules validate) and start again`);
    return EXIT_PROBLEMS;
  }
  if (err instanceof CliError) {
    printError(err.message);
    return err.code;
  }
  if (err instanceof StoreUnavailableError || err instanceof StoreVersionError) {
    printError(`store: ${err.message}`);
    return EXIT_PROBLEMS;
  }
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    printError(`cannot listen: ${(err as Error).message}`);
    return EXIT_PROBLEMS;
  }
  process.stderr.write(`notion-rules: internal error (a bug; please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT_PROBLEMS;
}
