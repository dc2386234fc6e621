import { describe, expect, it } from 'vitest';
import { simulate } from '../../../src/engine/simulate.js';
import { normalize } from '../../../src/model/normalize.js';
import { notionFixture } from '../../support/fixtures.js';
import { ruleSetOf } from '../../support/rules.js';

const page = notionFixture('page.json');
const facts = { get: async () => page };
const base = Date.parse('2026-11-20T14:00:00Z');
const event = (i: number, second: number, pageId = 'p-1', type = 'page.properties_updated') =>
  normalize({
    ...notionFixture<Record<string, unknown>>('page.properties_updated.json'),
    id: `e${i}`,
    type,
    timestamp: new Date(base + second * 1000).toISOString(),
    entity: { id: pageId, type: 'page' },
  });
const log = '\nactions:\n  - log: { message: "{{ $count(items) }}" }\n';

describe('simulating bursts and time over a list of events', () => {
  it('throttle: one run per key per window, the others throttled', async () => {
    const set = ruleSetOf({ 'a.yaml': `id: once\non: page.properties_updated\nthrottle: { per: 1m }\nactions:\n  - log: { message: x }\n` });
    const events = [...Array.from({ length: 10 }, (_, i) => event(i, i)), event(10, 30, 'p-2'), event(11, 61)];
    const { steps } = await simulate(set, events, facts, new Date(base + 3_600_000));
    expect(steps.map((s) => `${s.what} ${s.key}`)).toEqual([
      'run p-1',
      ...Array.from({ length: 9 }, () => 'throttled p-1'),
      'run p-2',
      'run p-1', // past the window
    ]);
  });

  it('digest: one run per group, `wait` after its first item, or at max; an open group is pending at the end', async () => {
    const set = ruleSetOf({ 'a.yaml': `id: bulk\non: page.properties_updated\ndigest: { wait: 30s, max: 3 }${log}` });
    const events = [event(0, 0), event(1, 10), event(2, 50), event(3, 51), event(4, 52), event(5, 53), event(6, 200)];
    const { steps, pending } = await simulate(set, events, facts, new Date(base + 210_000));
    expect(steps.filter((s) => s.what === 'digest_run').map((s) => [s.at, s.items, s.actions![0]!.params.message])).toEqual([
      ['2026-11-20T14:00:30.000Z', 2, 2], // wait after the first
      ['2026-11-20T14:00:52.000Z', 3, 3], // max
      ['2026-11-20T14:01:23.000Z', 1, 1], // the one at 53 s, 30 s later
    ]);
    expect(pending.digests).toEqual([{ rule: 'bulk', key: '', items: 1, dueAt: '2026-11-20T14:03:50.000Z' }]); // opened at 200 s
  });

  it('after: run when the condition still holds at the recheck, dropped when not; cancelOn ends a wait', async () => {
    const set = ruleSetOf({
      'a.yaml':
        'id: stuck\non: page.properties_updated\nfetch: page\nwhen: page.props.Status = "Done"\nafter: { delay: 1h, cancelOn: [page.deleted] }\nactions:\n  - log: { message: still }\n',
    });
    const events = [event(0, 0, 'p-1'), event(1, 0, 'p-2'), event(2, 60, 'p-2', 'page.deleted')];
    const { steps, pending } = await simulate(set, events, facts, new Date(base + 2 * 3_600_000));
    expect(steps.map((s) => `${s.what} ${s.key}`)).toEqual(['delayed p-1', 'delayed p-2', 'delay_run p-1']);
    expect(pending.delays).toEqual([]);
  });
});
