import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../../support/child.js';
import { useFakes } from '../../support/fakes.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const ADMIN = 'admin-token-failed-0123456789';
const fakes = useFakes();

const RULES = {
  // Needs the Notion API: fails without a token.
  'comment.yaml': 'id: comment\non: page.created\nfetch: page\nactions:\n  - notion.comment: { text: "Thanks for {{ page.title }}" }\n',
  // Needs nothing: matches the first time, and must not run again on replay.
  'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n',
};

describe('a rule that failed for an event is never silent, and replay --failed matches it again once', () => {
  it('no NOTION_TOKEN: the event is failed in the CLI, console and /metrics; with the token, replay --failed delivers its actions once', async () => {
    const dir = tempDir();
    const rules = rulesDir(RULES, join(dir, 'rules'));
    const base = {
      rules: { dir: rules },
      slack: { token: fakes.slack.token, apiUrl: fakes.slack.url },
      security: { adminToken: ADMIN },
      log: { level: 'error' },
    };
    const pageId = '1f8e2d3c-4b5a-4697-8877-665544332211';
    fakes.notion.addPage(pageId);
    const watch = new JobWatch();
    const first = await startTestService(testConfig({ ...base, notion: { baseUrl: fakes.notion.url } }, dir), { hooks: watch });
    const ev = eventFrom('page.created.json', { entity: { id: pageId, type: 'page' } });
    await postEvent(first.webhook, ev, SECRET);
    await watch.until(() => watch.count('done') === 1);
    await expect.poll(async () => (await first.store.getEvent(String(ev.id)))?.status).toBe('failed');

    const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
    const listed = (await (await fetch(`${first.url}/admin/events?status=failed`, auth)).json()) as { events: Array<{ id: string; status: string }> };
    expect(listed.events).toEqual([expect.objectContaining({ id: ev.id, status: 'failed' })]);
    expect(await (await fetch(`${first.url}/metrics`, auth)).text()).toMatch(/^notion_rules_failed_events 1$/m);
    const login = await fetch(`${first.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN, next: '/console' }).toString(),
    });
    const cookie = { headers: { cookie: login.headers.get('set-cookie')!.split(';')[0]! } };
    expect(await (await fetch(`${first.url}/console/events?status=failed`, cookie)).text()).toMatch(
      new RegExp(`${String(ev.id)}</a></td>\\s*<td><span class="badge bad">rule failed</span>`),
    );
    const page = await (await fetch(`${first.url}/console/events/${String(ev.id)}`, cookie)).text();
    expect(page).toContain('Match the failed rules again');
    expect(page).toContain('no Notion token configured');
    const health = (await (await fetch(`${first.url}/health`, auth)).json()) as { status: string; reasons: string[] };
    expect(health.status).toBe('degraded');
    expect(health.reasons.join('\n')).toContain('a rule failed for an event');
    await first.stop();

    const configFile = writeConfig(dir, { store: { url: `sqlite:${join(dir, 'store.db')}` }, rules: { dir: rules } }, 'cli.yaml');
    const events = await runCli(['events', '--status', 'failed', '--config', configFile]);
    expect(events.stdout).toContain(`failed    ${String(ev.id)}`);
    expect(events.stdout).toMatch(/rule comment: fetch_error: fetch page: no Notion token configured/);

    // The operator sets the token, restarts, and replays the failed events.
    const second = await startTestService(testConfig({ ...base, notion: { baseUrl: fakes.notion.url, token: fakes.notion.token } }, dir), { hooks: watch });
    const replay = await runCli(['replay', '--failed', '--config', configFile]);
    expect(replay.stdout).toContain('1 failed event(s) to be matched again');
    await watch.until(() => watch.count('done') === 2);
    await expect.poll(async () => (await second.store.getEvent(String(ev.id)))?.status).toBe('dispatched');
    expect(fakes.notion.comments).toEqual([expect.objectContaining({ page_id: pageId, text: 'Thanks for Launch plan Q1' })]);
    expect(fakes.slack.messages.filter((m) => m.text === ev.id)).toHaveLength(1);
    const jobs = await second.store.getJobs(String(ev.id));
    expect(jobs.map((j) => [j.ruleId, j.status]).sort()).toEqual([
      ['comment', 'done'],
      ['ship', 'done'],
    ]);
    expect(await runCli(['replay', String(ev.id), '--config', configFile])).toMatchObject({
      stdout: `event ${String(ev.id)} has no dead jobs and no failed rules\n`,
    });
  });
});
