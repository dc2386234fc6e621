import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/child.js';
import { fixturesDir, repoRoot } from '../../support/fixtures.js';
import { rulesDir } from '../../support/rules.js';
import { tempDir } from '../../support/tmp.js';

const noSecrets = {}; // validate, test and run need no NOTION_WEBHOOK_SECRET, tokens or store

describe('notion-rules validate', () => {
  it('passes a valid folder with exit 0, naming its rules, files and version', async () => {
    const dir = rulesDir({
      'a.yaml': 'id: one\non: page.created\nactions:\n  - log: { message: hi }\n---\nid: two\non: page.deleted\nactions:\n  - log: { message: bye }\n',
      'sub/b.yaml':
        'id: three\non: comment.created\nfetch: comment\nwhen: $contains(comment.text, "urgent")\nactions:\n  - notion.comment: { reply: true, text: on it }\n',
    });
    const res = await runCli(['validate', '--rules', dir], noSecrets);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^ok: 3 rules in 2 files under .*, version [0-9a-f]{12}\n$/);
  });

  it('prints every problem with file, line and rule id, and exits 1', async () => {
    const dir = rulesDir({
      'a.yaml': 'id: one\non: page.update\nactions:\n  - slack: { chanel: "#x", text: hi }\n',
      'b.yaml': 'id: two\non: page.created\nwhen: "page.title = "\nactions:\n  - log: { message: hi }\n',
    });
    const res = await runCli(['validate', '--rules', dir], noSecrets);
    expect(res.code).toBe(1);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toEqual([
      `${dir}/a.yaml:2: one: on: unknown event type "page.update" (did you mean "page.updated", "page.content_updated" or "page.properties_updated"?); add it to rules.extraEventTypes if Notion has introduced it`,
      `${dir}/a.yaml:4: one: actions[0].slack.chanel: unknown parameter "chanel" for slack (did you mean "channel"?); it takes channel, text, blocks, thread_ts, unfurl_links or user_email`,
      expect.stringMatching(new RegExp(`^${dir}/b\\.yaml:3: two: when: JSONata syntax error at column \\d+: `)),
    ]);
    expect(res.stderr).toBe(`notion-rules: 3 problems in ${dir} (2 files)\n`);
  });
});

describe('notion-rules test', () => {
  it('runs the rule tests beside the rules: a line per case and a summary', async () => {
    const dir = rulesDir({
      'done.yaml':
        'id: done\non: page.properties_updated\nfetch: page\nwhen: page.props.Status = "Done"\nactions:\n  - slack: { channel: "#ship", text: "{{ page.title }} done" }\n',
      'tests/done.test.yaml': `name: done is announced\nevent: ${fixturesDir}notion/page.properties_updated.json\npage: ${fixturesDir}notion/page.json\nexpect:\n  matched: [done]\n  actions:\n    done:\n      - slack: { text: "Launch plan Q1 done" }\n---\nname: a created page is not\nevent: ${fixturesDir}notion/page.created.json\npage: ${fixturesDir}notion/page.json\nexpect:\n  notMatched: [done]\n`,
    });
    const res = await runCli(['test', '--rules', dir], noSecrets);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('PASS '))).toHaveLength(2);
    expect(lines.at(-1)).toBe('2 passed, 0 failed');
  });

  it('fails with what differs, and exits 1', async () => {
    const dir = rulesDir({
      'done.yaml':
        'id: done\non: page.properties_updated\nfetch: page\nwhen: page.props.Status = "Done"\nactions:\n  - slack: { channel: "#ship", text: "{{ page.title }} done" }\n',
      'done.test.yaml': `name: wrong text\nevent: ${fixturesDir}notion/page.properties_updated.json\npage: ${fixturesDir}notion/page.json\nexpect:\n  matched: [done]\n  actions:\n    done:\n      - slack: { text: "Launch plan done" }\n---\nname: right\nevent: ${fixturesDir}notion/page.properties_updated.json\npage: ${fixturesDir}notion/page.json\nexpect:\n  matched: [done]\n`,
    });
    const res = await runCli(['test', '--rules', dir], noSecrets);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(
      `FAIL ${dir}/done.test.yaml:1: wrong text\n     rule done: slack.text: expected "Launch plan done", got "Launch plan Q1 done"\n`,
    );
    expect(res.stdout).toContain(`PASS ${dir}/done.test.yaml:10: right\n`);
    expect(res.stdout.trim().split('\n').at(-1)).toBe('1 passed, 1 failed');
  });
});

describe('notion-rules run --dry-run', () => {
  it('shows the matches with rendered actions and why the others did not match', async () => {
    const page = join(fixturesDir, 'notion/page.json');
    const event = join(fixturesDir, 'notion/page.properties_updated.json');
    const rules = rulesDir({
      'done.yaml':
        'id: announce-done\non: page.properties_updated\nfetch: page\nwhen: page.props.Status = "Done"\nactions:\n  - slack: { channel: "#ship", text: "✅ {{ page.title }} is done — {{ page.url }}" }\n',
      'welcome.yaml': 'id: welcome-comment\non: page.created\nactions:\n  - notion.comment: { text: welcome }\n',
    });
    const content = join(rules, 'content.txt');
    writeFileSync(content, 'Goals');
    const res = await runCli(['run', '--rules', rules, '--event', event, '--page', page, '--content', content, '--dry-run', '--json'], noSecrets);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { outcomes: Array<Record<string, unknown>> };
    expect(out.outcomes).toContainEqual({
      rule: 'announce-done',
      matched: true,
      actions: [
        {
          type: 'slack',
          params: { channel: '#ship', text: '✅ Launch plan Q1 is done — https://www.notion.so/Launch-plan-Q1-1f8e2d3c4b5a46978877665544332211' },
        },
      ],
    });
    expect(out.outcomes).toContainEqual({ rule: 'welcome-comment', matched: false, reason: 'type_not_subscribed' });

    const inProgress = join(rules, 'page-in-progress.json');
    const pageJson = JSON.parse(readFileSync(page, 'utf8')) as { properties: { Status: { status: { name: string } } } };
    pageJson.properties.Status.status.name = 'In progress';
    writeFileSync(inProgress, JSON.stringify(pageJson));
    const text = await runCli(['run', '--rules', rules, '--event', event, '--page', inProgress, '--content', content, '--dry-run'], noSecrets);
    expect(text.stdout).toContain('no       announce-done: condition false; it read page.props.Status = "In progress"');
  });

  it('says which fixture a rule needs when none is given', async () => {
    const rules = rulesDir({ 'triage.yaml': 'id: triage-new-bugs\non: page.created\nfetch: page\nactions:\n  - log: { message: "{{ page.title }}" }\n' });
    const res = await runCli(['run', '--rules', rules, '--event', join(fixturesDir, 'notion/page.created.json'), '--dry-run'], noSecrets);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('ERROR    triage-new-bugs: fetch error: fetch page: this rule fetches the page: pass --page FILE');
  });
});

describe('notion-rules run --events: throttle, digest and delays simulated on the events own clock', () => {
  it('prints when each rule would run, what was throttled or collected, and what is still pending', async () => {
    const rules = rulesDir({
      'once.yaml': 'id: once\non: page.properties_updated\nthrottle: { per: 10m }\nactions:\n  - log: { message: changed }\n',
      'bulk.yaml': 'id: bulk\non: page.properties_updated\ndigest: { wait: 30s }\nactions:\n  - log: { message: "{{ count }} changed" }\n',
      'tests/burst.test.yaml': `name: a burst runs each rule once\nevents: [../events/a.json, ../events/b.json, ../events/c.json]\nexpect:\n  runs: { once: 1, bulk: 1 }\n`,
    });
    const events = join(rules, 'events');
    mkdirSync(events);
    const fixture = JSON.parse(readFileSync(join(fixturesDir, 'notion/page.properties_updated.json'), 'utf8')) as Record<string, unknown>;
    ['a', 'b', 'c'].forEach((name, i) =>
      writeFileSync(join(events, `${name}.json`), JSON.stringify({ ...fixture, id: `e-${name}`, timestamp: `2026-11-20T14:00:0${i}.000Z` })),
    );
    const res = await runCli(['run', '--rules', rules, '--events', events, '--now', '2026-11-20T15:00:00Z'], noSecrets);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toBe(`3 events from ${events}, clock until 2026-11-20T15:00:00.000Z — simulation, nothing sent`);
    expect(lines.filter((l) => / run +once /.test(l))).toHaveLength(1);
    expect(lines.filter((l) => / throttled +once /.test(l))).toHaveLength(2);
    expect(lines.filter((l) => / digested +bulk /.test(l))).toHaveLength(3);
    expect(lines).toContain('2026-11-20T14:00:30.000Z  digest_run    bulk [] 3 items: log {"message":"3 changed"}');
    const tests = await runCli(['test', '--rules', rules], noSecrets);
    expect(tests.stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed');
  });
});

describe('notion-rules run without --dry-run', () => {
  it('sends the matched actions once through the real clients, and exits 1 when one fails', async () => {
    const { FakeSlack } = await import('../../fakes/slack.js');
    const { writeConfig } = await import('../../support/child.js');
    const slack = new FakeSlack();
    await slack.start();
    try {
      const dir = rulesDir({
        'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "new {{ event.entity.id }}" }\n  - log: { message: done }\n',
      });
      const home = rulesDir({}); // the config lives outside the rules folder
      const config = writeConfig(home, { store: { url: `sqlite:${join(home, 'store.db')}` }, slack: { apiUrl: slack.url }, log: { level: 'warn' } });
      const event = join(fixturesDir, 'notion/page.created.json');
      const env = { SLACK_BOT_TOKEN: slack.token };
      const res = await runCli(['run', '--config', config, '--rules', dir, '--event', event], env);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('sent     ship 1. slack {"channel":"#ship","ts":');
      expect(res.stdout).toContain('sent     ship 2. log');
      expect(slack.messages.map((m) => m.text)).toEqual(['new 1f8e2d3c-4b5a-4697-8877-665544332211']);

      slack.knownChannels = new Set();
      const failed = await runCli(['run', '--config', config, '--rules', dir, '--event', event], env);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain('FAILED   ship 1. slack: slack: channel_not_found');
      expect(failed.stdout).not.toContain('ship 2. log'); // a rule stops at its first failure
      expect(failed.stderr).toBe('notion-rules: 1 action failed\n');
    } finally {
      await slack.stop();
    }
  });
});

describe('a rules folder grows without breaking its other tests', () => {
  it('adding a rule and its test beside the examples passes every example test', async () => {
    const dir = tempDir('nr-examples-');
    cpSync(join(repoRoot, 'examples/rules'), dir, { recursive: true });
    // A rule that fires for every event the examples' tests send, and its own test.
    writeFileSync(join(dir, 'audit-all.yaml'), 'id: audit-all\non: "*"\nactions:\n  - log: { message: "audit {{ event.type }}" }\n');
    writeFileSync(
      join(dir, 'tests/audit-all.test.yaml'),
      'name: every event is audited\nevent: fixtures/page.created.json\nexpect:\n  matched: [audit-all]\n  actions:\n    audit-all:\n      - log: { message: audit page.created }\n',
    );
    const res = await runCli(['test', '--rules', dir], noSecrets);
    expect(res.stderr).toBe('');
    expect(res.stdout).not.toContain('FAIL');
    expect(res.stdout.trim().split('\n').at(-1)).toBe('14 passed, 0 failed');
    expect(res.code).toBe(0);
  });
});

describe('notion-rules init', () => {
  it('scaffolds a folder whose rule validates and whose test passes, and never overwrites', async () => {
    const dir = join(tempDir('nr-init-'), 'team-rules');
    const res = await runCli(['init', dir, '--json'], noSecrets);
    expect(res.code).toBe(0);
    const { files } = JSON.parse(res.stdout) as { files: string[] };
    expect(files.map((f) => f.slice(f.indexOf('team-rules/') + 'team-rules/'.length)).sort()).toEqual([
      'config.yaml',
      'rules/new-page.yaml',
      'rules/tests/fixtures/page.created.json',
      'rules/tests/new-page.test.yaml',
      'schemas/config.schema.json',
      'schemas/rule-test.schema.json',
      'schemas/rule.schema.json',
    ]);
    // Each YAML file points the editor at a schema that init wrote beside it.
    for (const [file, schema] of [
      ['config.yaml', 'schemas/config.schema.json'],
      ['rules/new-page.yaml', 'schemas/rule.schema.json'],
      ['rules/tests/new-page.test.yaml', 'schemas/rule-test.schema.json'],
    ] as const) {
      const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1];
      expect(modeline, file).toBeDefined();
      expect(resolvePath(dirname(join(dir, file)), modeline!)).toBe(join(dir, schema));
    }
    const validate = await runCli(['validate', '--config', join(dir, 'config.yaml'), '--rules', join(dir, 'rules')], noSecrets);
    expect(validate.stdout).toMatch(/^ok: 1 rule in 1 file/);
    const test = await runCli(['test', '--rules', join(dir, 'rules')], noSecrets);
    expect(test.stdout.trim().split('\n').at(-1)).toBe('2 passed, 0 failed');
    expect(test.code).toBe(0);

    const again = await runCli(['init', dir], noSecrets);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exist');
    expect(again.stderr).toContain('nothing was written');
  });
});
