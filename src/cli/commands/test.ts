import { formatProblem } from '../../config/errors.js';
import { loadOptionsOf } from '../../engine/load.js';
import { buildRuleSet } from '../../engine/rule-set.js';
import { findTestFiles, runRuleTests, type TestRun } from '../../engine/test-gate.js';
import { authoringConfig } from '../authoring-config.js';
import { CliError, EXIT_PROBLEMS, EXIT_USAGE, print } from '../output.js';
import type { AuthoringOptions } from './validate.js';

export interface TestOptions extends AuthoringOptions {
  reporter?: string;
}

const REPORTERS = ['text', 'junit', 'json'] as const;

/** `notion-rules test [DIR]`: runs every `*.test.yaml` under DIR (default: the rules folder). */
export async function testCommand(dirArg: string | undefined, opts: TestOptions, explicitConfig: boolean): Promise<void> {
  const reporter = opts.json ? 'json' : (opts.reporter ?? 'text');
  if (!(REPORTERS as readonly string[]).includes(reporter)) throw new CliError(`test: --reporter must be ${REPORTERS.join(', ')}`, EXIT_USAGE);
  const config = authoringConfig(opts.config, explicitConfig);
  const rulesDir = opts.rules ?? config.rules.dir;
  const built = buildRuleSet(rulesDir, loadOptionsOf(config.rules));
  if (!built.ok) {
    for (const p of built.problems) print(formatProblem(p));
    throw new CliError(`the rules in ${rulesDir} are invalid; fix them first (notion-rules validate)`, EXIT_PROBLEMS);
  }
  const files = findTestFiles(dirArg ?? rulesDir);
  const run = await runRuleTests(built.ruleSet, files);
  const passed = run.results.filter((r) => r.ok).length;
  const failed = run.results.length - passed + run.errors.length;
  if (reporter === 'junit') print(junit(run));
  else if (reporter === 'json') print(JSON.stringify(jsonReport(run, passed, failed), null, 2));
  else {
    for (const e of run.errors) print(`FAIL ${e}`);
    for (const r of run.results) {
      print(`${r.ok ? 'PASS' : 'FAIL'} ${r.case.file}:${r.case.line}: ${r.case.name}`);
      for (const f of r.failures) print(`     ${f}`);
    }
    print(`${passed} passed, ${failed} failed`);
  }
  if (files.length === 0) throw new CliError(`no *.test.yaml files under ${dirArg ?? rulesDir}`, EXIT_PROBLEMS);
  if (failed > 0) throw new CliError(`${failed} rule test${failed === 1 ? '' : 's'} failed`, EXIT_PROBLEMS);
}

function jsonReport(run: TestRun, passed: number, failed: number) {
  return {
    passed,
    failed,
    cases: run.results.map((r) => ({ file: r.case.file, line: r.case.line, name: r.case.name, ok: r.ok, failures: r.failures })),
    errors: run.errors,
  };
}

/** JUnit XML, as CI systems read it: a suite per test file, a case per YAML document. */
export function junit(run: TestRun): string {
  const files = [...new Set([...run.results.map((r) => r.case.file), ...run.errors.map((e) => e.split(':')[0]!)])];
  const total = run.results.length + run.errors.length;
  const failures = run.results.filter((r) => !r.ok).length;
  const suites = files.map((file) => {
    const cases = run.results.filter((r) => r.case.file === file);
    const errors = run.errors.filter((e) => e.startsWith(`${file}:`));
    const body = [
      ...cases.map((r) => {
        const open = `    <testcase classname="${xml(file)}" name="${xml(r.case.name)}" file="${xml(file)}" line="${r.case.line}"`;
        return r.ok
          ? `${open}/>`
          : `${open}>\n      <failure message="${xml(r.failures[0] ?? 'failed')}">${xml(r.failures.join('\n'))}</failure>\n    </testcase>`;
      }),
      ...errors.map((e) => `    <testcase classname="${xml(file)}" name="${xml(e)}" file="${xml(file)}">\n      <error message="${xml(e)}"/>\n    </testcase>`),
    ];
    const failed = cases.filter((r) => !r.ok).length;
    return `  <testsuite name="${xml(file)}" tests="${cases.length + errors.length}" failures="${failed}" errors="${errors.length}">\n${body.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="notion-rules" tests="${total}" failures="${failures}" errors="${run.errors.length}">\n${suites.join('\n')}\n</testsuites>`;
}

function xml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
