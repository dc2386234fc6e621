import { formatProblem } from '../../config/errors.js';
import { loadOptionsOf, loadRules } from '../../engine/load.js';
import { authoringConfig } from '../authoring-config.js';
import { CliError, EXIT_PROBLEMS, print } from '../output.js';

export interface AuthoringOptions {
  config: string;
  rules?: string;
  json?: boolean;
}

/** `notion-rules validate`: every problem of the rules folder, each with file, line and rule id. */
export function validateCommand(opts: AuthoringOptions, explicitConfig: boolean): void {
  const config = authoringConfig(opts.config, explicitConfig);
  const dir = opts.rules ?? config.rules.dir;
  const result = loadRules(dir, loadOptionsOf(config.rules));
  if (opts.json) {
    print(
      JSON.stringify(
        {
          ok: result.problems.length === 0,
          dir,
          version: result.version,
          files: result.files.length,
          rules: result.rules.map((r) => r.id),
          problems: result.problems,
        },
        null,
        2,
      ),
    );
    if (result.problems.length > 0) throw new CliError(`${result.problems.length} problem(s) in ${dir}`, EXIT_PROBLEMS);
    return;
  }
  for (const p of result.problems) print(formatProblem(p));
  const files = `${result.files.length} file${result.files.length === 1 ? '' : 's'}`;
  if (result.problems.length > 0) {
    const n = result.problems.length;
    throw new CliError(`${n} problem${n === 1 ? '' : 's'} in ${dir} (${files})`, EXIT_PROBLEMS);
  }
  const disabled = result.all.length - result.rules.length;
  print(
    `ok: ${result.rules.length} rule${result.rules.length === 1 ? '' : 's'}${disabled ? ` (+${disabled} disabled)` : ''} in ${files} under ${dir}, version ${result.version}`,
  );
}
