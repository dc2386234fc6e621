import { formatProblem } from '../../config/errors.js';
import { loadOptionsOf } from '../../engine/load.js';
import { buildRuleSet } from '../../engine/rule-set.js';
import { readTestFile, runTestCase } from '../../engine/rule-tests.js';
import { findTestFiles } from '../../engine/test-gate.js';
import { normalize } from '../../model/normalize.js';
import { authoringConfig } from '../authoring-config.js';
import { CliError, EXIT_PROBLEMS, print } from '../output.js';
import type { AuthoringOptions } from './validate.js';

/** `notion-rules test [DIR]`: runs every `*.test.yaml` under DIR (default: the rules folder). */
export async function testCommand(dirArg: string | undefined, opts: AuthoringOptions, explicitConfig: boolean): Promise<void> {
  const config = authoringConfig(opts.config, explicitConfig);
  const rulesDir = opts.rules ?? config.rules.dir;
  const built = buildRuleSet(rulesDir, loadOptionsOf(config.rules));
  if (!built.ok) {
    for (const p of built.problems) print(formatProblem(p));
    throw new CliError(`the rules in ${rulesDir} are invalid; fix them first (notion-rules validate)`, EXIT_PROBLEMS);
  }
  const files = findTestFiles(dirArg ?? rulesDir);
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const { cases, errors } = readTestFile(file, (raw) => normalize(raw));
    for (const e of errors) {
      print(`FAIL ${e}`);
      failed++;
    }
    for (const tc of cases) {
      const result = await runTestCase(built.ruleSet, tc);
      if (result.ok) {
        passed++;
        print(`PASS ${tc.file}:${tc.line}: ${tc.name}`);
      } else {
        failed++;
        print(`FAIL ${tc.file}:${tc.line}: ${tc.name}`);
        for (const f of result.failures) print(`     ${f}`);
      }
    }
  }
  print(`${passed} passed, ${failed} failed`);
  if (files.length === 0) throw new CliError(`no *.test.yaml files under ${dirArg ?? rulesDir}`, EXIT_PROBLEMS);
  if (failed > 0) throw new CliError(`${failed} rule test${failed === 1 ? '' : 's'} failed`, EXIT_PROBLEMS);
}
