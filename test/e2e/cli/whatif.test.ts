import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/model/normalize.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import { runCli, writeConfig } from '../../support/child.js';
import { eventFrom } from '../../support/fixtures.js';
import { rulesDir } from '../../support/rules.js';
import { tempDir } from '../../support/tmp.js';

const TYPES = ['page.created', 'page.deleted', 'comment.created'] as const;

/** A store file holding `n` events: event i has type TYPES[i % 3] and data.n = i. */
async function storeWith(n: number): Promise<{ config: string; dir: string }> {
  const dir = tempDir('nr-whatif-');
  const store = SqliteStore.open(join(dir, 'store.db'));
  for (let i = 0; i < n; i++) {
    const raw = eventFrom('page.created.json', {
      id: `ev-${i}`,
      type: TYPES[i % 3],
      timestamp: new Date(Date.parse('2026-11-29T00:00:00Z') + i * 1000).toISOString(),
      entity: { id: `page-${i % 97}`, type: 'page' },
      data: { n: i },
    });
    await store.insertEvent(normalize(raw), JSON.stringify(raw), { matched: { rulesVersion: 'x' } });
  }
  await store.close();
  const running = rulesDir(
    {
      'a.yaml': [
        'id: thirds\non: page.created\nwhen: event.data.n % 3 = 0 and event.data.n % 2 = 0\nactions:\n  - log: { message: "n={{ event.data.n }}" }',
        'id: retext\non: [page.created, page.deleted]\nwhen: event.data.n % 7 = 0\nactions:\n  - log: { message: "seven {{ event.data.n }}" }',
        'id: same\non: "*"\nactions:\n  - log: { message: same }',
        'id: gone\non: comment.created\nwhen: event.data.n < 100\nactions:\n  - log: { message: gone }',
      ].join('\n---\n'),
    },
    join(dir, 'running'),
  );
  const config = writeConfig(dir, { store: { url: `sqlite:${join(dir, 'store.db')}` }, rules: { dir: running } });
  return { config, dir };
}

describe('notion-rules whatif', () => {
  it('over 10,000 stored events reports exactly the events a changed condition and changed actions differ on', async () => {
    const n = 10_000;
    const { config, dir } = await storeWith(n);
    const candidate = rulesDir(
      {
        'a.yaml': [
          'id: thirds\non: page.created\nwhen: event.data.n % 5 = 0\nactions:\n  - log: { message: "n={{ event.data.n }}" }',
          // Same events, the text differs only for n that are also multiples of 2.
          "id: retext\non: [page.created, page.deleted]\nwhen: event.data.n % 7 = 0\nactions:\n  - log: { message: \"{{ event.data.n % 2 = 0 ? 'even' : 'seven' }} {{ event.data.n }}\" }",
          'id: same\non: "*"\nactions:\n  - log: { message: same }',
          'id: new\non: page.deleted\nwhen: event.data.n > 9000\nactions:\n  - log: { message: new }',
        ].join('\n---\n'),
      },
      join(dir, 'candidate'),
    );
    const res = await runCli(['whatif', '--rules', candidate, '--last', String(n), '--json', '--examples', '1', '--config', config]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as {
      events: number;
      unchanged: number;
      rules: Array<{
        rule: string;
        status: string;
        events: number;
        newlyMatch: number;
        noLongerMatch: number;
        differentActions: number;
        unknown: number;
        examples: unknown[];
      }>;
    };

    // The same counts, by brute force over the events as generated.
    const all = Array.from({ length: n }, (_, i) => ({ i, type: TYPES[i % 3] }));
    const created = all.filter((e) => e.type === 'page.created');
    const thirdsBefore = (i: number) => i % 3 === 0 && i % 2 === 0;
    const thirdsAfter = (i: number) => i % 5 === 0;
    const retext = all.filter((e) => e.type !== 'comment.created' && e.i % 7 === 0);
    const expected = {
      thirds: {
        status: 'changed',
        events: created.length,
        newlyMatch: created.filter((e) => !thirdsBefore(e.i) && thirdsAfter(e.i)).length,
        noLongerMatch: created.filter((e) => thirdsBefore(e.i) && !thirdsAfter(e.i)).length,
        differentActions: 0,
      },
      retext: {
        status: 'changed',
        events: all.filter((e) => e.type !== 'comment.created').length,
        newlyMatch: 0,
        noLongerMatch: 0,
        differentActions: retext.filter((e) => e.i % 2 === 0).length,
      },
      gone: {
        status: 'removed',
        events: all.filter((e) => e.type === 'comment.created').length,
        newlyMatch: 0,
        noLongerMatch: all.filter((e) => e.type === 'comment.created' && e.i < 100).length,
        differentActions: 0,
      },
      new: {
        status: 'added',
        events: all.filter((e) => e.type === 'page.deleted').length,
        newlyMatch: all.filter((e) => e.type === 'page.deleted' && e.i > 9000).length,
        noLongerMatch: 0,
        differentActions: 0,
      },
    };
    expect(report.events).toBe(n);
    expect(report.unchanged).toBe(1); // `same` is not evaluated
    expect(
      Object.fromEntries(
        report.rules.map((r) => [
          r.rule,
          { status: r.status, events: r.events, newlyMatch: r.newlyMatch, noLongerMatch: r.noLongerMatch, differentActions: r.differentActions },
        ]),
      ),
    ).toEqual(expected);
    expect(expected.thirds.newlyMatch).toBeGreaterThan(0); // the comparison is not vacuous
    expect(report.rules.find((r) => r.rule === 'retext')!.examples).toEqual([
      { eventId: 'ev-0', type: 'page.created', change: 'differentActions', before: 'log {"message":"seven 0"}', after: 'log {"message":"even 0"}' },
    ]);

    // --fail-on-change for CI; --since selects by arrival (all of them arrived just now).
    const gate = await runCli(['whatif', '--rules', candidate, '--since', '1h', '--fail-on-change', '--config', config]);
    expect(gate.code).toBe(1);
    expect(gate.stdout).toContain(
      `thirds (changed): ${expected.thirds.newlyMatch} newly match, ${expected.thirds.noLongerMatch} no longer match, 0 render different actions, of ${created.length} events it listens to`,
    );
    expect(gate.stderr).toBe('notion-rules: whatif: the candidate rules would act differently (--fail-on-change)\n');
    const same = await runCli(['whatif', '--rules', join(dir, 'running'), '--fail-on-change', '--config', config]);
    expect(same).toMatchObject({ code: 0, stdout: expect.stringContaining('no rule differs (4 unchanged): nothing would change') });
  }, 300_000);

  it('reads pages from the snapshots notion-rules kept; an event whose page state is no longer kept is not evaluable, not a change', async () => {
    const dir = tempDir('nr-whatif-');
    const store = SqliteStore.open(join(dir, 'store.db'));
    const at = (m: number) => new Date(Date.parse('2026-11-29T10:00:00Z') + m * 60_000).toISOString();
    const events = [
      { id: 'a1', page: 'pa', ts: at(1) },
      { id: 'b1', page: 'pb', ts: at(2) },
      { id: 'a0', page: 'pa', ts: at(0) }, // older than both snapshots kept for pa
    ];
    for (const e of events) {
      const raw = eventFrom('page.properties_updated.json', { id: e.id, timestamp: e.ts, entity: { id: e.page, type: 'page' } });
      await store.insertEvent(normalize(raw), JSON.stringify(raw), { matched: { rulesVersion: 'x' } });
    }
    await store.recordSnapshots([
      { pageId: 'pa', seenAt: at(0.5), title: 'A', props: { Name: 'A', Status: 'In review' } },
      { pageId: 'pa', seenAt: at(1), title: 'A', props: { Name: 'A', Status: 'Done' } },
      { pageId: 'pb', seenAt: at(2), title: 'B', props: { Name: 'B', Status: 'In review' } },
    ]);
    await store.close();
    const rule = (status: string) =>
      `id: status\non: page.properties_updated\nfetch: page\nwhen: page.props.Status = "${status}" and $not(before.props.Status = page.props.Status)\nactions:\n  - log: { message: "{{ page.title }}" }\n`;
    const running = rulesDir({ 'a.yaml': rule('Done') }, join(dir, 'running'));
    const candidate = rulesDir({ 'a.yaml': rule('In review') }, join(dir, 'candidate'));
    const config = writeConfig(dir, { store: { url: `sqlite:${join(dir, 'store.db')}` }, rules: { dir: running } });
    const res = await runCli(['whatif', '--rules', candidate, '--json', '--config', config]);
    expect(res.code).toBe(0);
    const [diff] = (JSON.parse(res.stdout) as { rules: Array<Record<string, unknown>> }).rules;
    // a1: In review → Done (its own snapshot and the one before): no longer; b1: first seen In review: newly;
    // a0: older than both snapshots kept for its page: not evaluable.
    expect(diff).toMatchObject({ rule: 'status', events: 3, noLongerMatch: 1, newlyMatch: 1, unknown: 1 });
  });
});
