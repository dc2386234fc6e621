import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../../src/engine/expression.js';
import { buildRuleSet } from '../../../src/engine/rule-set.js';
import { rulesDir } from '../../support/rules.js';

const reads = (source: string) => compileExpression(source, { timeoutMs: 100 }).readsStale;

// The store records every processed event's entity time only while some rule may read
// `event.stale`; a "no" here must be certain, a "yes" may be cautious.
describe('which rules may read event.stale', () => {
  it.each([
    'event.stale',
    'event.stale = false',
    'event.`stale`',
    '$not(event.stale) and event.type = "page.created"',
    '$string(event)',
    'event.$string()',
    'event.(stale)',
    'event.($keys())',
    '$lookup(event, "sta" & "le")',
    '($e := event; $e.type)',
    '$',
    '$$.event.type',
    'event.*',
    '**.stale',
    'event.data.%.type',
    'event{"t": $}',
    'event[type = "page.created"].data',
  ])('%s: may', (source) => {
    expect(reads(source)).toBe(true);
  });

  it.each([
    'event.type = "page.created"',
    'event.data.parent.type = "data_source" and event.authors[0].type = "bot"',
    'event.authors[type = "person"].id',
    '$count(event.data.updated_properties) > 0',
    'page.props.Status = "Done" and "Status" in changed',
    '$contains(event.entity.id, "abc")',
    'now > event.timestamp',
  ])('%s: does not', (source) => {
    expect(reads(source)).toBe(false);
  });

  it('a rule set may read it when an enabled rule does, in its condition or in an action template', () => {
    const set = (files: Record<string, string>) => {
      const built = buildRuleSet(rulesDir(files), { evalTimeoutMs: 100, extraEventTypes: [] });
      if (!built.ok) throw new Error(JSON.stringify(built.problems));
      return built.ruleSet;
    };
    const plain = 'id: plain\non: page.created\nwhen: event.type = "page.created"\nactions:\n  - log: { message: "{{ event.id }}" }\n';
    expect(set({ 'a.yaml': plain }).readsStale).toBe(false);
    expect(set({ 'a.yaml': plain, 'b.yaml': 'id: b\non: page.*\nactions:\n  - log: { message: "stale: {{ event.stale }}" }\n' }).readsStale).toBe(true);
    expect(set({ 'a.yaml': plain, 'b.yaml': 'id: b\non: page.*\nwhen: $not(event.stale)\nactions:\n  - log: { message: x }\n' }).readsStale).toBe(true);
    expect(set({ 'a.yaml': plain, 'b.yaml': 'id: b\nenabled: false\non: page.*\nwhen: event.stale\nactions:\n  - log: { message: x }\n' }).readsStale).toBe(
      false,
    );
  });
});
