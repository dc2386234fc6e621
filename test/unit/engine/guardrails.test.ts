import { describe, expect, it } from 'vitest';
import { evaluateEvent } from '../../../src/engine/evaluate.js';
import { loadRules } from '../../../src/engine/load.js';
import { normalize } from '../../../src/model/normalize.js';
import { notionFixture } from '../../support/fixtures.js';
import { rulesDir, ruleSetOf } from '../../support/rules.js';

const page = notionFixture<Record<string, unknown>>('page.json');
const titled = (title: string) => ({
  ...page,
  properties: { Name: { id: 'title', type: 'title', title: [{ type: 'text', plain_text: title, text: { content: title } }] } },
});
const event = normalize(notionFixture<Record<string, unknown>>('page.properties_updated.json'));

function rule(id: string, when: string, action = '  - log: { message: "{{ page.title }}" }'): string {
  return `id: ${id}\non: page.*\nfetch: page\nwhen: ${JSON.stringify(when)}\nactions:\n${action}\n`;
}

async function outcome(when: string, pageObject: Record<string, unknown> = page, evalTimeoutMs = 100) {
  const ruleSet = ruleSetOf({ 'a.yaml': rule('r', when) }, evalTimeoutMs);
  const [o] = await evaluateEvent(ruleSet, event, { facts: { get: async () => pageObject } });
  return o!;
}

describe('hostile conditions cost at most their budget', () => {
  it('a backtracking regular expression runs in linear time on a hostile title (RE2)', async () => {
    // On a backtracking engine this takes 2^40 steps: the test would never finish.
    const o = await outcome('$contains(page.title, /^(a+)+$/)', titled(`${'a'.repeat(40)}!`));
    expect(o).toMatchObject({ matched: false, reason: 'condition_false' });
    expect(await outcome('$contains(page.title, /^(a+)+$/)', titled('a'.repeat(40)))).toMatchObject({ matched: true });
  });

  it('regular expressions keep their meaning: flags, groups, $replace, $split, $match', async () => {
    const o = await outcome(
      '$match(page.title, /(\\w+)-(\\d+)/i).groups[1] = "42" and $replace(page.title, /o/, "0") = "Ab0ut X-42" and $split("a, b,c", /,\\s*/) = ["a", "b", "c"] and $contains(page.title, /about/i)',
      titled('About X-42'),
    );
    expect(o).toMatchObject({ matched: true });
  });

  it('a regular expression that needs backtracking is refused at load, with file, line and rule id', () => {
    const dir = rulesDir({ 'a.yaml': rule('backref', '$contains(page.title, /(a)\\1/)') });
    const { problems } = loadRules(dir, { evalTimeoutMs: 100 });
    expect(problems).toEqual([
      {
        file: `${dir}/a.yaml`,
        line: 4,
        where: 'backref',
        message: expect.stringMatching(/^when: unsafe regular expression at column \d+: regular expression \/\(a\)\\1\/ cannot run in linear time/),
      },
    ]);
  });

  it('$pad with a huge width fails that rule as a timeout instead of building 30 MB', async () => {
    const o = await outcome('$length($pad("", 30000000)) > 0');
    expect(o).toMatchObject({ matched: false, reason: 'condition_timeout', error: expect.stringContaining('$pad width 30000000 is over the limit') });
    expect(await outcome('$pad("ab", -5, "#") = "###ab" and $pad("ab", 5) = "ab   "')).toMatchObject({ matched: true });
  });

  it('a value doubled until it is huge is stopped by the size limit', async () => {
    const o = await outcome('($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("ab", 40)) > 0)');
    expect(o).toMatchObject({ matched: false, reason: 'condition_timeout', error: expect.stringContaining('characters') });
  });

  it('$distinct over 100,000 items is linear, with JSONata deep equality', async () => {
    // JSONata's own $distinct compares every pair: 5·10^9 comparisons.
    expect(await outcome('$count($distinct([1..100000])) = 100000', page, 5000)).toMatchObject({ matched: true });
    expect(await outcome('$count($distinct([1, "1", 1, {"a": 1, "b": [2]}, {"b": [2], "a": 1}])) = 3')).toMatchObject({ matched: true });
  });

  it('the budget counts work, not time: a paused process does not trip it', async () => {
    // The getter stalls the thread for longer than the budget, as a GC pause or SIGSTOP would;
    // the evaluation itself does a handful of steps.
    const stalled = {
      ...page,
      extra: {
        get slow() {
          const until = Date.now() + 150;
          while (Date.now() < until);
          return 1;
        },
      },
    };
    expect(await outcome('$sum([page.extra.slow, 1]) = 2', stalled, 100)).toMatchObject({ matched: true });
  });

  it('work over the budget is a timeout of that rule, whatever the machine: the same answer every time', async () => {
    const when = '$sum([1..100000].($ * 2)) > 0';
    expect(await outcome(when, page, 50)).toMatchObject({ matched: false, reason: 'condition_timeout' });
    expect(await outcome(when, page, 50)).toMatchObject({ matched: false, reason: 'condition_timeout' });
    expect(await outcome(when, page, 2000)).toMatchObject({ matched: true });
  });

  it('a membership test against a large array is charged for the array', async () => {
    // 100,000 checks against 100,000 items would be 10^10 comparisons in few steps.
    const o = await outcome('($big := [1..100000]; $count([1..100000][$ in $big]) > 0)', page, 100);
    expect(o).toMatchObject({ matched: false, reason: 'condition_timeout' });
  });

  it('templates run under the same budget: a hostile template fails that rule', async () => {
    const ruleSet = ruleSetOf({ 'a.yaml': rule('t', 'true', '  - log: { message: "{{ $pad(page.title, 50000000) }}" }') });
    const [o] = await evaluateEvent(ruleSet, event, { facts: { get: async () => page } });
    expect(o).toMatchObject({ matched: false, reason: 'render_error', error: expect.stringContaining('over the limit') });
  });
});
