import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTestFile, runTestCase } from '../../../src/engine/rule-tests.js';
import { normalize } from '../../../src/model/normalize.js';
import { eventFrom } from '../../support/fixtures.js';
import { ruleSetOf } from '../../support/rules.js';
import { tempDir } from '../../support/tmp.js';

const rules = ruleSetOf({
  'a.yaml': [
    'id: created\non: page.created\nactions:\n  - log: { message: "new {{ event.entity.id }}" }',
    'id: everything\non: "*"\nactions:\n  - log: { message: any }',
    'id: deleted\non: page.deleted\nactions:\n  - log: { message: gone }',
  ].join('\n---\n'),
});

/** Runs the cases of one test file (YAML text) against `rules`. */
async function run(yaml: string) {
  const dir = tempDir('nr-ruletest-');
  writeFileSync(join(dir, 'event.json'), JSON.stringify(eventFrom('page.created.json')));
  writeFileSync(join(dir, 'x.test.yaml'), yaml);
  const { cases, errors } = readTestFile(join(dir, 'x.test.yaml'), (raw) => normalize(raw));
  const results = await Promise.all(cases.map((tc) => runTestCase(rules, tc)));
  return { errors, results: results.map((r) => ({ name: r.case.name, ok: r.ok, failures: r.failures })) };
}

describe('rule tests speak about the rules they name', () => {
  it('passes when the named rules fire, whatever other rules also fire', async () => {
    const { errors, results } = await run('name: n\nevent: event.json\nexpect:\n  matched: [created]\n  notMatched: [deleted]\n');
    expect(errors).toEqual([]);
    expect(results).toEqual([{ name: 'n', ok: true, failures: [] }]);
  });

  it('fails for a named rule that did not fire, and for a notMatched rule that did', async () => {
    const { results } = await run('name: n\nevent: event.json\nexpect:\n  matched: [deleted]\n  notMatched: [created]\n');
    expect(results[0]!.failures).toEqual(['expected rule deleted to fire; fired: [created, everything]', 'expected rule created not to fire, but it did']);
  });

  it('with exclusive: true, another rule firing is a failure', async () => {
    const { results } = await run('name: n\nevent: event.json\nexpect:\n  matched: [created]\n  exclusive: true\n');
    expect(results[0]!.failures).toEqual(['exclusive: only [created] may fire, but rule everything fired too']);
  });

  it('an id that is no rule fails the case with a suggestion, so a typo cannot pass', async () => {
    const { results } = await run('name: n\nevent: event.json\nexpect:\n  notMatched: [delted]\n');
    expect(results[0]!.failures).toEqual(['no rule has the id "delted" (did you mean "deleted"?)']);
  });

  it('matched: [] without exclusive is refused as saying nothing', async () => {
    const { errors, results } = await run('name: n\nevent: event.json\nexpect:\n  matched: []\n');
    expect(results).toEqual([]);
    expect(errors).toEqual([expect.stringContaining('n: expect.matched: [] names no rule; to say a rule does not fire use expect.notMatched')]);
  });

  it('matched: [] with exclusive: true means no rule fires', async () => {
    const { results } = await run('name: n\nevent: event.json\nexclusive: true\nexpect:\n  matched: []\n');
    expect(results[0]!.failures).toEqual(['exclusive: only [] may fire, but rules [created, everything] fired too']);
  });
});

describe('errors of rules a case does not name', () => {
  const withFetch = ruleSetOf({
    'a.yaml':
      'id: created\non: page.created\nactions:\n  - log: { message: new }\n---\nid: reads-page\non: page.created\nfetch: page\nactions:\n  - log: { message: "{{ page.title }}" }\n',
  });

  it('do not fail it (a fixture it never gave), but do when it names the rule', async () => {
    const dir = tempDir('nr-ruletest-');
    writeFileSync(join(dir, 'event.json'), JSON.stringify(eventFrom('page.created.json')));
    writeFileSync(
      join(dir, 'x.test.yaml'),
      'name: other\nevent: event.json\nexpect:\n  matched: [created]\n---\nname: named\nevent: event.json\nexpect:\n  matched: [reads-page]\n',
    );
    const { cases } = readTestFile(join(dir, 'x.test.yaml'), (raw) => normalize(raw));
    const [other, named] = await Promise.all(cases.map((tc) => runTestCase(withFetch, tc)));
    expect(other!.failures).toEqual([]);
    expect(named!.failures).toEqual([
      'rule reads-page: fetch_error: fetch page: the test gives no "page" fixture',
      'expected rule reads-page to fire; fired: [created]',
    ]);
  });
});
