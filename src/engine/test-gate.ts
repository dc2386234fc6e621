import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Problem } from '../config/errors.js';
import { normalize } from '../model/normalize.js';
import { TEST_FILE } from './load.js';
import type { RuleSet } from './rule-set.js';
import { readTestFile, runTestCase, type RuleTestResult } from './rule-tests.js';

/** Every visible file under `dir`, in path order (hidden entries skipped, as the loader does). */
function visibleFiles(dir: string, visit: (file: string, size: number, mtimeMs: number) => void): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) visibleFiles(full, visit);
    else visit(full, st.size, st.mtimeMs);
  }
}

/** Every `*.test.yaml` under `dir`, in path order. */
export function findTestFiles(dir: string): string[] {
  const out: string[] = [];
  visibleFiles(dir, (file) => {
    if (TEST_FILE.test(file)) out.push(file);
  });
  return out;
}

export interface TestRun {
  files: string[];
  results: RuleTestResult[];
  /** Cases that could not be read (YAML, a missing fixture), as `file:line: name: why`. */
  errors: string[];
}

/** Runs the rule tests of `files` against a rule set. */
export async function runRuleTests(ruleSet: RuleSet, files: string[]): Promise<TestRun> {
  const results: RuleTestResult[] = [];
  const errors: string[] = [];
  for (const file of files) {
    const read = readTestFile(file, (raw) => normalize(raw));
    errors.push(...read.errors);
    for (const tc of read.cases) results.push(await runTestCase(ruleSet, tc));
  }
  return { files, results, errors };
}

/**
 * The rule tests beside a candidate rule set, as load problems: none when every test passes (or
 * the folder has none). A failing case names its file, line and name, and what differed.
 */
export async function testProblems(dir: string, ruleSet: RuleSet): Promise<Problem[]> {
  const run = await runRuleTests(ruleSet, findTestFiles(dir));
  const problems: Problem[] = run.errors.map((e) => {
    const m = /^(.*?):(\d+): (.*)$/s.exec(e);
    return m ? { file: m[1]!, line: Number(m[2]), message: `rule test could not run: ${m[3]}` } : { file: dir, message: `rule test could not run: ${e}` };
  });
  for (const r of run.results) {
    if (r.ok) continue;
    problems.push({ file: r.case.file, line: r.case.line, where: r.case.name, message: `rule test failed: ${r.failures.join('; ')}` });
  }
  return problems;
}

/**
 * A fingerprint of everything in the folder (path, size, modification time of each visible file):
 * after a load failed its tests, the content-hash poll tries again when a test or fixture changed,
 * though the rules did not.
 */
export function folderFingerprint(dir: string): string {
  const hash = createHash('sha256');
  visibleFiles(dir, (file, size, mtimeMs) => hash.update(`${file}\0${size}\0${mtimeMs}\n`));
  return hash.digest('hex').slice(0, 12);
}
