import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, writeConfig } from '../../support/child.js';
import { fixturesDir, repoRoot } from '../../support/fixtures.js';
import { rulesDir } from '../../support/rules.js';
import { tempDir } from '../../support/tmp.js';

const event = join(fixturesDir, 'notion/page.created.json');

/** A rules folder with one passing and one failing test case. */
function folder(): string {
  return rulesDir({
    'a.yaml': 'id: hello\non: page.created\nactions:\n  - log: { message: "hello {{ event.entity.id }}" }\n',
    'tests/a.test.yaml': `name: says hello\nevent: ${event}\nexpect:\n  matched: [hello]\n---\nname: "says <goodbye> & more"\nevent: ${event}\nexpect:\n  actions:\n    hello:\n      - log: { message: goodbye }\n`,
  });
}

describe('machine-readable output', () => {
  it('test --reporter junit writes JUnit XML a CI system reads: a suite per file, a case per document, failures with what differed', async () => {
    const dir = folder();
    const res = await runCli(['test', '--rules', dir, '--reporter', 'junit']);
    expect(res.code).toBe(1);
    const xml = res.stdout;
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="notion-rules" tests="2" failures="1" errors="0">')).toBe(true);
    expect(xml).toContain(`<testsuite name="${dir}/tests/a.test.yaml" tests="2" failures="1" errors="0">`);
    expect(xml).toContain(`<testcase classname="${dir}/tests/a.test.yaml" name="says hello" file="${dir}/tests/a.test.yaml" line="1"/>`);
    expect(xml).toContain('name="says &lt;goodbye&gt; &amp; more"');
    expect(xml).toMatch(/<failure message="rule hello: log\.message: expected &quot;goodbye&quot;, got &quot;hello 1f8e2d3c-[^"]*&quot;">/);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(2);
  });

  it('test --json, validate --json and run --json (also when it sends) print JSON only', async () => {
    const dir = folder();
    const test = await runCli(['test', '--rules', dir, '--json']);
    expect(JSON.parse(test.stdout)).toMatchObject({
      passed: 1,
      failed: 1,
      cases: [
        { name: 'says hello', ok: true },
        { ok: false, failures: [expect.stringContaining('goodbye')] },
      ],
    });
    const validate = await runCli(['validate', '--rules', dir, '--json']);
    expect(validate.code).toBe(0);
    expect(JSON.parse(validate.stdout)).toMatchObject({ ok: true, rules: ['hello'], files: 1, problems: [] });
    const bad = await runCli(['validate', '--rules', rulesDir({ 'b.yaml': 'id: x\non: page.craeted\nactions: []\n' }), '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).problems.length).toBeGreaterThan(0);

    const config = writeConfig(tempDir(), { store: { url: `sqlite:${join(tempDir(), 's.db')}` }, rules: { dir } });
    const run = await runCli(['run', '--event', event, '--json', '--config', config]);
    expect(run.stderr).toContain('"msg":"hello 1f8e2d3c-'); // the log action's line goes to stderr, stdout stays JSON
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { sent: unknown[]; outcomes: Array<{ rule: string; matched: boolean }> };
    expect(out.outcomes).toMatchObject([{ rule: 'hello', matched: true }]);
    expect(out.sent).toEqual([{ rule: 'hello', action: 1, type: 'log' }]);
  });

  it('piped into a reader that stops early, a command ends quietly, without an EPIPE stack trace', async () => {
    const many = rulesDir(
      Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`r${i}.yaml`, `id: r${i}\non: page.created\nactions:\n  - log: { message: "${'x'.repeat(200)}" }\n`]),
      ),
    );
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const proc = spawn(process.execPath, [CLI, 'run', '--dry-run', '--rules', many, '--event', event], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      // Like `| head -1`: read the first chunk, then close the pipe.
      proc.stdout.once('data', () => proc.stdout.destroy());
      proc.on('close', (c) => resolve({ code: c, stderr: err }));
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
