import { describe, expect, it } from 'vitest';
import { evaluateEvent } from '../../../src/engine/evaluate.js';
import type { CompiledRule, RuleOutcome } from '../../../src/engine/types.js';
import { normalize } from '../../../src/model/normalize.js';
import { notionFixture } from '../../support/fixtures.js';
import { ruleSetOf } from '../../support/rules.js';

const page = notionFixture('page.json');
const facts = { get: async () => page };
const event = (type = 'page.properties_updated') => normalize({ ...notionFixture<Record<string, unknown>>('page.properties_updated.json'), type });

function rule(id: string, on: string, when?: string, action = '  - log: { message: "{{ page.title }}" }'): string {
  return `id: ${id}\non: ${JSON.stringify(on)}\nfetch: page\n${when ? `when: ${JSON.stringify(when)}\n` : ''}actions:\n${action}\n`;
}

describe('evaluation', () => {
  it('with 1,000 rules of which 10 can match an event, evaluates 10 conditions', async () => {
    const files: Record<string, string> = {};
    const types = [
      'database.created',
      'comment.created',
      'data_source.moved',
      'page.deleted',
      'page.moved',
      'comment.deleted',
      'view.*',
      'block.*',
      'database.*',
    ];
    for (let i = 0; i < 990; i++) files[`r${String(i).padStart(4, '0')}.yaml`] = rule(`other-${i}`, types[i % types.length]!, 'true');
    for (let i = 0; i < 5; i++) files[`m${i}.yaml`] = rule(`exact-${i}`, 'page.properties_updated', 'true');
    for (let i = 0; i < 4; i++) files[`g${i}.yaml`] = rule(`glob-${i}`, 'page.*', 'true');
    files['star.yaml'] = rule('star', '*', 'true');
    const ruleSet = ruleSetOf(files);
    expect(ruleSet.rules).toHaveLength(1000);

    const evaluated: CompiledRule[] = [];
    const outcomes = await evaluateEvent(ruleSet, event(), { facts, onCondition: (r) => evaluated.push(r) });
    expect(evaluated).toHaveLength(10);
    expect(
      outcomes
        .filter((o) => o.matched)
        .map((o) => o.rule)
        .sort(),
    ).toEqual(['exact-0', 'exact-1', 'exact-2', 'exact-3', 'exact-4', 'glob-0', 'glob-1', 'glob-2', 'glob-3', 'star'].sort());
  });

  it('a condition that throws fails that rule only, with the error recorded', async () => {
    const ruleSet = ruleSetOf({
      'a.yaml': rule('throws', 'page.*', '$error("boom: bad data")'),
      'b.yaml': rule('fine', 'page.*', 'page.props.Status = "Done"'),
    });
    const outcomes = await evaluateEvent(ruleSet, event(), { facts });
    expect(outcomes).toEqual([
      { rule: 'throws', matched: false, reason: 'condition_error', error: expect.stringContaining('boom: bad data') },
      { rule: 'fine', matched: true, actions: [{ type: 'log', params: { message: 'Launch plan Q1' } }] },
    ]);
  });

  it('a condition that loops past rules.evalTimeoutMs fails that rule only', async () => {
    const loop = '($f := function($n){ $n > 0 ? $f($n - 1) : 0 }; $count([1..5000].$f(200)) > 0)';
    const ruleSet = ruleSetOf({ 'a.yaml': rule('slow', 'page.*', loop), 'b.yaml': rule('fine', 'page.*') }, 5);
    const outcomes = await evaluateEvent(ruleSet, event(), { facts });
    expect(outcomes[0]).toEqual({
      rule: 'slow',
      matched: false,
      reason: 'condition_timeout',
      error: 'evaluation used up its budget (rules.evalTimeoutMs: 5 ms of work)',
    });
    expect(outcomes[1]).toMatchObject({ rule: 'fine', matched: true });
  });

  it('endless recursion is stopped, not a crash', async () => {
    const ruleSet = ruleSetOf({ 'a.yaml': rule('deep', 'page.*', '($f := function($n){ $f($n + 1) }; $f(0))') });
    const [o] = await evaluateEvent(ruleSet, event(), { facts });
    expect(o).toMatchObject({
      matched: false,
      reason: expect.stringMatching(/^condition_(error|timeout)$/),
      error: expect.stringMatching(/deeper than|budget/),
    });
  });

  it('a failed fetch fails the rules that asked for it, with the error', async () => {
    const ruleSet = ruleSetOf({ 'a.yaml': rule('needs-page', 'page.*'), 'b.yaml': 'id: no-fetch\non: page.*\nactions:\n  - log: { message: x }\n' });
    const failing = { get: async () => Promise.reject(new Error('object_not_found: Could not find page')) };
    const outcomes = await evaluateEvent(ruleSet, event(), { facts: failing });
    expect(outcomes).toEqual([
      { rule: 'needs-page', matched: false, reason: 'fetch_error', error: 'fetch page: object_not_found: Could not find page', retriable: false },
      { rule: 'no-fetch', matched: true, actions: [{ type: 'log', params: { message: 'x' } }] },
    ]);
  });

  it('explains a false condition with the values it read', async () => {
    const ruleSet = ruleSetOf({ 'a.yaml': rule('is-todo', 'page.*', 'page.props.Status = "To do" and page.props.Estimate > 3') });
    const [o] = await evaluateEvent(ruleSet, event(), { facts });
    expect(o).toEqual({
      rule: 'is-todo',
      matched: false,
      reason: 'condition_false',
      values: { 'page.props.Status': 'Done', 'page.props.Estimate': 8 },
    });
  });

  it('resolves changed property ids to names, and knows the seed envelope carries its page', async () => {
    const ruleSet = ruleSetOf({ 'a.yaml': rule('status-changed', 'page.*', '"Status" in changed and "Name" in changed') });
    expect((await evaluateEvent(ruleSet, event(), { facts }))[0]?.matched).toBe(true);

    const seed = normalize({ object: 'event', id: 's1', event_type: 'page.updated', data: page });
    const noApi = { get: async () => Promise.reject(new Error('no network in this test')) };
    const titled = ruleSetOf({ 'a.yaml': rule('titled', 'page.updated', 'page.title = "Launch plan Q1"') });
    expect((await evaluateEvent(titled, seed, { facts: noApi }))[0]?.matched).toBe(true);
  });

  it('survives hostile page data: huge titles, deep nesting, __proto__ keys', async () => {
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 2000; i++) deep = { d: deep };
    const hostile = JSON.parse(
      JSON.stringify({
        ...page,
        properties: { ...(page.properties as Record<string, unknown>), Name: { id: 'title', type: 'title', title: [{ plain_text: 'x'.repeat(1_000_000) }] } },
        deep,
      }).replace('"deep"', '"__proto__":{"polluted":true},"deep"'),
    ) as Record<string, unknown>;
    const ruleSet = ruleSetOf({
      'a.yaml': rule('hostile', 'page.*', '$length(page.title) > 10', '  - log: { message: "{{ $substring(page.title, 0, 5) }} {{ page.polluted }}" }'),
    });
    const [o] = await evaluateEvent(ruleSet, event(), { facts: { get: async () => hostile } });
    // The __proto__ key stays plain data: it neither reaches `page.polluted` nor any prototype.
    expect(o).toEqual({ rule: 'hostile', matched: true, actions: [{ type: 'log', params: { message: 'xxxxx ' } }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('orders outcomes by folder order', async () => {
    const ruleSet = ruleSetOf({ 'b.yaml': rule('second', 'page.*'), 'a.yaml': rule('first', '*') });
    const outcomes: RuleOutcome[] = await evaluateEvent(ruleSet, event(), { facts });
    expect(outcomes.map((o) => o.rule)).toEqual(['first', 'second']);
  });
});

describe('before and changes', () => {
  const snapshotFacts = (before: unknown) => ({ get: async (fact: string) => (fact === 'before' ? before : page) });

  it('a from → to condition sees the page before and after; a false one explains the changes it read', async () => {
    const set = ruleSetOf({ 'a.yaml': rule('moved', 'page.properties_updated', 'changes.Status.from = "In review" and changes.Status.to = "Done"') });
    const [fired] = await evaluateEvent(set, event(), {
      facts: snapshotFacts({ title: 'Plan', props: { Status: 'In review' }, seenAt: '2026-11-20T14:00:00.000Z' }),
    });
    expect(fired).toMatchObject({ rule: 'moved', matched: true });
    const [notFired] = await evaluateEvent(set, event(), {
      facts: snapshotFacts({ title: 'Plan', props: { Status: 'Not started' }, seenAt: '2026-11-20T14:00:00.000Z' }),
    });
    expect(notFired).toMatchObject({ reason: 'condition_false', values: { 'changes.Status.from': 'Not started', 'changes.Status.to': 'Done' } });
  });

  it('a page never seen has before null and no changes', async () => {
    const set = ruleSetOf({ 'a.yaml': rule('seen', 'page.properties_updated', 'before = null and $count($keys(changes)) = 0') });
    const [outcome] = await evaluateEvent(set, event(), { facts: snapshotFacts(null) });
    expect(outcome).toMatchObject({ matched: true });
  });

  it('only rules that name before or changes read the snapshot', async () => {
    const asked: string[] = [];
    const set = ruleSetOf({ 'a.yaml': rule('plain', 'page.properties_updated', 'page.props.Status = "Done"') });
    await evaluateEvent(set, event(), { facts: { get: async (fact: string) => (asked.push(fact), page) } });
    expect(asked).toEqual(['page']);
  });
});

describe('throttle and digest outcomes', () => {
  it('a throttled rule renders its key; a digest rule renders no actions yet, only its key and what it saw', async () => {
    const set = ruleSetOf({
      'a.yaml': `${rule('t', 'page.properties_updated', 'true')}throttle: { key: "{{ page.title }}", per: 10m }\n`,
      'b.yaml': `${rule('d', 'page.properties_updated', 'true')}digest: { key: "{{ event.data.parent.id }}", wait: 30s }\n`,
    });
    const [t, d] = await evaluateEvent(set, event(), { facts });
    expect(t).toMatchObject({ matched: true, throttleKey: 'Launch plan Q1', actions: [{ type: 'log', params: { message: 'Launch plan Q1' } }] });
    expect(d).toMatchObject({ matched: true, actions: [], digest: { key: '3d4e5f60-7182-493a-a4b5-c6d7e8f9a0b1' } });
    const item = (d as { digest: { item: Record<string, unknown> } }).digest.item;
    expect(item.page).toEqual({ id: expect.any(String), title: 'Launch plan Q1', url: expect.any(String), props: expect.objectContaining({ Status: 'Done' }) });
    expect(item.event).toMatchObject({ type: 'page.properties_updated' });
    expect(Object.keys(item)).not.toContain('rule');
  });
});
