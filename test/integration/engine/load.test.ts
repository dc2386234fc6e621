import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../../src/config/errors.js';
import { loadRules } from '../../../src/engine/load.js';
import { rulesDir } from '../../support/rules.js';

function problemsOf(files: Record<string, string>, extraEventTypes: string[] = []) {
  const dir = rulesDir(files);
  const result = loadRules(dir, { evalTimeoutMs: 100, extraEventTypes });
  return result.problems.map((p) => ({ ...p, file: p.file.slice(dir.length + 1) }));
}

const ok = 'id: ok-rule\non: page.created\nactions:\n  - log: { message: hi }\n';

describe('rule loading and validation: every problem with file, line and rule id', () => {
  it.each([
    ['YAML syntax', { 'a.yaml': 'id: x\non: [page.created\nactions: []\n' }, { file: 'a.yaml', line: 3, message: expect.stringMatching(/^YAML: /) }],
    [
      'a missing required key',
      { 'a.yaml': 'id: no-actions\non: page.created\n' },
      { file: 'a.yaml', line: 1, where: 'no-actions', message: '"actions" is required' },
    ],
    [
      'an unknown key, with a suggestion',
      { 'a.yaml': 'id: typo\non: page.created\nwen: "true"\nactions:\n  - log: { message: hi }\n' },
      { file: 'a.yaml', line: 3, where: 'typo', message: 'wen: unknown key "wen" (did you mean "when"?)' },
    ],
    [
      'a JSONata syntax error, with its column',
      { 'a.yaml': 'id: bad-when\non: page.created\nwhen: page.props.Status = = "Done"\nactions:\n  - log: { message: hi }\n' },
      { file: 'a.yaml', line: 3, where: 'bad-when', message: expect.stringMatching(/^when: JSONata syntax error at column \d+: /) },
    ],
    [
      'an unknown action type, with a suggestion',
      { 'a.yaml': 'id: act\non: page.created\nactions:\n  - log: { message: hi }\n  - slak: { channel: "#x", text: hi }\n' },
      { file: 'a.yaml', line: 5, where: 'act', message: expect.stringMatching(/^actions\[1\]\.slak: unknown action type "slak" \(did you mean "slack"\?\)/) },
    ],
    [
      '`changes` without the page to compare',
      { 'a.yaml': 'id: moved\non: page.properties_updated\nwhen: changes.Status.to = "Done"\nactions:\n  - log: { message: hi }\n' },
      { file: 'a.yaml', line: 1, where: 'moved', message: '`changes` compares the page with what was seen of it before: add `fetch: page`' },
    ],
    [
      'a thread reply on events without a comment',
      { 'a.yaml': 'id: re\non: [comment.created, page.created]\nactions:\n  - notion.comment: { reply: true, text: ok }\n' },
      {
        file: 'a.yaml',
        line: 4,
        where: 're',
        message: 'actions[0].notion.comment.reply: answers the comment of a comment.* event, but the rule also listens to page.created',
      },
    ],
    [
      'a Slack message with neither channel nor user_email',
      { 'a.yaml': 'id: dm\non: page.created\nactions:\n  - slack: { text: hi }\n' },
      { file: 'a.yaml', line: 4, where: 'dm', message: expect.stringMatching(/channel|user_email/) },
    ],
    [
      'a duration that is not one',
      { 'a.yaml': 'id: slow\non: page.created\nthrottle: { per: 10 minutes }\nactions:\n  - log: { message: hi }\n' },
      { file: 'a.yaml', line: 3, where: 'slow', message: 'throttle.per: must be a duration: 500ms, 30s, 10m, 48h, 2d' },
    ],
    [
      'throttle and digest together',
      { 'a.yaml': 'id: both\non: page.created\nthrottle: { per: 1m }\ndigest: { wait: 1m }\nactions:\n  - log: { message: hi }\n' },
      { file: 'a.yaml', line: 4, where: 'both', message: 'digest: a rule takes throttle or digest, not both (a digest already runs once per group)' },
    ],
    [
      'a cron expression that is not one',
      { 'a.yaml': 'id: weekly\non: schedule\nschedule: { cron: "0 9 * * FUNDAY" }\nactions:\n  - log: { message: hi }\n' },
      {
        file: 'a.yaml',
        line: 3,
        where: 'weekly',
        message: expect.stringMatching(/^schedule\.cron: not a cron expression \(minute hour day month weekday, such as "0 9 \* \* MON"\): /),
      },
    ],
    [
      'an unknown time zone',
      { 'a.yaml': 'id: weekly\non: schedule\nschedule: { cron: "0 9 * * MON", timezone: Europe/Atlantis }\nactions:\n  - log: { message: hi }\n' },
      {
        file: 'a.yaml',
        line: 3,
        where: 'weekly',
        message: 'schedule.timezone: unknown time zone "Europe/Atlantis" (an IANA name such as Europe/Berlin or UTC)',
      },
    ],
    [
      'on: schedule without a schedule',
      { 'a.yaml': 'id: weekly\non: schedule\nactions:\n  - log: { message: hi }\n' },
      { file: 'a.yaml', line: 1, where: 'weekly', message: '`on: schedule` needs `schedule: { cron: … }` or `schedule: { every: … }`' },
    ],
    [
      'an unknown action parameter, with a suggestion',
      { 'a.yaml': 'id: param\non: page.created\nactions:\n  - slack:\n      chanel: "#x"\n      text: hi\n' },
      {
        file: 'a.yaml',
        line: 5,
        where: 'param',
        message: expect.stringMatching(/^actions\[0\]\.slack\.chanel: unknown parameter "chanel" for slack \(did you mean "channel"\?\)/),
      },
    ],
    [
      'a missing action parameter',
      { 'a.yaml': 'id: needs\non: page.created\nactions:\n  - notion.comment: { page_id: abc }\n' },
      { file: 'a.yaml', line: 4, where: 'needs', message: 'actions[0].notion.comment: notion.comment needs "text"' },
    ],
    [
      'slack without text or blocks',
      { 'a.yaml': 'id: quiet\non: page.created\nactions:\n  - slack: { channel: "#x" }\n' },
      { file: 'a.yaml', line: 4, where: 'quiet', message: 'actions[0].slack: needs "text" or "blocks"' },
    ],
    [
      'two action types in one item',
      { 'a.yaml': 'id: two\non: page.created\nactions:\n  - log: { message: a }\n    slack: { channel: "#x", text: b }\n' },
      { file: 'a.yaml', line: 4, where: 'two', message: expect.stringMatching(/exactly one type/) },
    ],
    [
      'an unknown event type, with suggestions',
      { 'a.yaml': 'id: typo-type\non: page.update\nactions:\n  - log: { message: hi }\n' },
      {
        file: 'a.yaml',
        line: 2,
        where: 'typo-type',
        message: expect.stringContaining('on: unknown event type "page.update" (did you mean "page.updated"'),
      },
    ],
    [
      'a template syntax error',
      { 'a.yaml': 'id: tmpl\non: page.created\nactions:\n  - log:\n      message: "hello {{ page.title ( }}"\n' },
      { file: 'a.yaml', line: 5, where: 'tmpl', message: expect.stringMatching(/^actions\[0\]\.log\.message: template: in "\{\{ page.title \( \}\}": /) },
    ],
    [
      'an unclosed template',
      { 'a.yaml': 'id: tmpl2\non: page.created\nactions:\n  - log:\n      message: "hello {{ page.title"\n' },
      { file: 'a.yaml', line: 5, where: 'tmpl2', message: expect.stringContaining('unclosed "{{"') },
    ],
    [
      'a rule that is not a mapping',
      { 'a.yaml': '- just\n- a list\n' },
      { file: 'a.yaml', line: 1, message: 'a rule must be a YAML mapping with id, on and actions' },
    ],
  ])('%s', (_kind, files, expected) => {
    expect(problemsOf(files as Record<string, string>)).toEqual([expect.objectContaining(expected)]);
  });

  it('the "did you mean" for page.update names both page.updated and page.properties_updated', () => {
    const [p] = problemsOf({ 'a.yaml': 'id: t\non: page.update\nactions:\n  - log: { message: hi }\n' });
    expect(p!.message).toContain('"page.updated"');
    expect(p!.message).toContain('"page.properties_updated"');
  });

  it('reports duplicate ids across files with both places', () => {
    expect(problemsOf({ 'a.yaml': ok, 'sub/b.yaml': `description: again\n${ok}` })).toEqual([
      expect.objectContaining({
        file: 'sub/b.yaml',
        line: 1,
        where: 'ok-rule',
        message: expect.stringMatching(/^duplicate rule id \(first defined at .*a\.yaml:1\)$/),
      }),
    ]);
  });

  it('reports every problem of every file at once, with the line inside multi-document files', () => {
    const problems = problemsOf({
      'a.yaml': `${ok}---\nid: second\non: page.created\nwhen: "("\nactions:\n  - log: { message: x }\n`,
      'b.yml': 'id: third\non: page.nope\nactions:\n  - slak: {}\n',
    });
    expect(problems.map((p) => `${p.file}:${p.line}:${p.where}`).sort()).toEqual(['a.yaml:8:second', 'b.yml:2:third', 'b.yml:4:third']);
    expect(problems).toHaveLength(3);
  });

  it('accepts known types, globs, Notion types added in config, and several rules per file', () => {
    const dir = rulesDir({
      'a.yaml': `${ok}---\nid: g\non: [page.*, "*", data_source.schema_updated, file_upload.completed]\nactions:\n  - log: { message: x }\n`,
      'b.yaml': 'id: new-type\non: meeting.transcribed\nactions:\n  - log: { message: x }\n',
    });
    expect(loadRules(dir, { evalTimeoutMs: 100 }).problems).toHaveLength(1);
    const result = loadRules(dir, { evalTimeoutMs: 100, extraEventTypes: ['meeting.transcribed'] });
    expect(result.problems).toEqual([]);
    expect(result.rules.map((r) => r.id)).toEqual(['ok-rule', 'g', 'new-type']);
  });

  it('skips hidden entries and *.test.yaml, reads visible symlinks (a Kubernetes ConfigMap) once', () => {
    const dir = rulesDir({ '..2026_11_24/rule.yaml': ok, 'notes.txt': 'not yaml', '.hidden.yaml': 'broken: [' });
    symlinkSync('..2026_11_24', join(dir, '..data'));
    symlinkSync('..data/rule.yaml', join(dir, 'rule.yaml'));
    writeFileSync(join(dir, 'rule.test.yaml'), 'name: a test, not a rule\n');
    const result = loadRules(dir, { evalTimeoutMs: 100 });
    expect(result.problems).toEqual([]);
    expect(result.files.map((f) => f.slice(dir.length + 1))).toEqual(['rule.yaml']);
  });

  it('keeps disabled rules out of the active set but validates them', () => {
    const dir = rulesDir({ 'a.yaml': `${ok}enabled: false\n` });
    const result = loadRules(dir, { evalTimeoutMs: 100 });
    expect(result.rules).toEqual([]);
    expect(result.all.map((r) => r.id)).toEqual(['ok-rule']);
  });

  it('gives the same version for the same content and another after an edit', () => {
    const dir = rulesDir({ 'a.yaml': ok });
    const v1 = loadRules(dir, { evalTimeoutMs: 100 }).version;
    expect(loadRules(dir, { evalTimeoutMs: 100 }).version).toBe(v1);
    writeFileSync(join(dir, 'a.yaml'), ok.replace('hi', 'hello'));
    expect(loadRules(dir, { evalTimeoutMs: 100 }).version).not.toBe(v1);
  });

  it('reports a missing folder by name', () => {
    const dir = join(rulesDir({}), 'missing');
    const [p] = loadRules(dir, { evalTimeoutMs: 100 }).problems;
    expect(formatProblem(p!)).toBe(`${dir}: cannot read rules folder (ENOENT)`);
    mkdirSync(dir);
  });
});

describe('rule loading is bounded: a hostile folder is a problem, never a crash', () => {
  const load = (dir: string, options: Partial<Parameters<typeof loadRules>[1]> = {}) => loadRules(dir, { evalTimeoutMs: 100, ...options });

  it('an anchor reused past the alias limit (a 600-byte file) is a problem with file and line', () => {
    const list = Array.from({ length: 120 }, () => '*a').join(', ');
    const dir = rulesDir({ 'a.yaml': ok, 'bomb.yaml': `id: bomb\non: page.created\nx: &a [1, 2, 3]\ny: [${list}]\nactions:\n  - log: { message: hi }\n` });
    expect(problemsOf({ 'bomb.yaml': `id: bomb\non: page.created\nx: &a [1, 2, 3]\ny: [${list}]\nactions:\n  - log: { message: hi }\n` })).toEqual([
      { file: 'bomb.yaml', line: 1, message: expect.stringMatching(/^YAML: aliases expand to more than 100 nodes/) },
    ]);
    expect(load(dir).rules).toEqual([]);
  });

  it('a billion-laughs file is a problem, not a hang', () => {
    let text = 'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++) text += `l${i}: &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(', ')}]\n`;
    const [p] = problemsOf({ 'laughs.yaml': text });
    expect(p).toMatchObject({ file: 'laughs.yaml', message: expect.stringMatching(/^YAML: aliases expand/) });
  });

  it('a file over rules.maxFileBytes is refused by name, without being read', () => {
    const big = `id: big\non: page.created\nactions:\n  - log: { message: "${'x'.repeat(300 * 1024)}" }\n`;
    expect(problemsOf({ 'big.yaml': big, 'a.yaml': ok })).toEqual([
      { file: 'big.yaml', message: 'is 301 KiB, over rules.maxFileBytes (256 KiB): split it into several files, or raise the limit' },
    ]);
    expect(load(rulesDir({ 'big.yaml': big }), { maxFileBytes: 400 * 1024 }).problems).toEqual([]);
  });

  it('a folder with more than rules.maxFiles rule files is refused', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`r${i}.yaml`] = ok.replace('ok-rule', `r${i}`);
    const dir = rulesDir(files);
    expect(load(dir, { maxFiles: 5 }).problems).toEqual([
      { file: dir, message: 'holds more than 5 rule files (rules.maxFiles): not loaded; merge rules into fewer files, or raise the limit' },
    ]);
    expect(load(dir, { maxFiles: 6 }).problems).toEqual([]);
  });

  it('a symlink that leads out of the rules folder is not followed', () => {
    const outside = rulesDir({ 'secret.yaml': ok.replace('ok-rule', 'outside'), 'deep/x.yaml': ok.replace('ok-rule', 'deep') });
    const dir = rulesDir({ 'a.yaml': ok });
    symlinkSync(join(outside, 'secret.yaml'), join(dir, 'link.yaml'));
    symlinkSync(join(outside, 'deep'), join(dir, 'linked-dir'));
    const result = load(dir);
    expect(result.problems.map((p) => p.file.slice(dir.length + 1)).sort()).toEqual(['link.yaml', 'linked-dir']);
    expect(result.problems[0]!.message).toMatch(/is a symlink to .*, outside the rules folder: not read/);
    expect(result.all.map((r) => r.id)).toEqual(['ok-rule']);
  });

  it('a rule with more than 50 actions is a schema problem', () => {
    const actions = Array.from({ length: 51 }, () => '  - log: { message: x }').join('\n');
    expect(problemsOf({ 'a.yaml': `id: many\non: page.created\nactions:\n${actions}\n` })).toEqual([
      { file: 'a.yaml', line: 4, where: 'many', message: expect.stringMatching(/^actions: /) },
    ]);
  });
});
