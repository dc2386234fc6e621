import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLI } from '../../support/child.js';
import { repoRoot } from '../../support/fixtures.js';
import { tempDir } from '../../support/tmp.js';

interface Step {
  name?: string;
  run?: string;
  uses?: string;
}

describe('the GitHub Actions recipe for a rules repository', () => {
  it('runs on pull requests without secrets, and its commands pass on a rules folder as written', () => {
    const text = readFileSync(join(repoRoot, 'examples/ci/github-workflow.yml'), 'utf8');
    const workflow = parse(text) as { on: Record<string, unknown>; jobs: Record<string, { steps: Step[]; container: { image: string } }> };
    expect(Object.keys(workflow.on)).toContain('pull_request');
    expect(text).not.toMatch(/secrets\./);
    const [job] = Object.values(workflow.jobs);
    const runs = job!.steps.filter((s) => s.run).map((s) => s.run!);
    expect(runs.some((r) => r.includes(' validate --rules rules'))).toBe(true);
    expect(runs.some((r) => r.includes(' test --rules rules --reporter junit > rule-tests.xml'))).toBe(true);

    // The steps, in a checkout whose rules/ are the examples, with this build as the image's CLI.
    const checkout = tempDir('nr-ci-');
    cpSync(join(repoRoot, 'examples/rules'), join(checkout, 'rules'), { recursive: true });
    for (const command of runs)
      execFileSync('bash', ['-euo', 'pipefail', '-c', command.replaceAll('node /app/dist/cli/main.js', `node ${CLI}`)], { cwd: checkout });
    const report = readFileSync(join(checkout, 'rule-tests.xml'), 'utf8');
    expect(report).toMatch(/<testsuites name="notion-rules" tests="\d+" failures="0" errors="0">/);
  });
});
