import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../fakes/slack.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig, type TestService } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const ADMIN = 'admin-token-0123456789abcdef';
let slack: FakeSlack;
beforeEach(async () => {
  slack = new FakeSlack();
  slack.knownChannels = new Set(['#general']);
  await slack.start();
});
afterEach(() => slack.stop());

const RULES = {
  'ship.yaml': 'id: ship\non: page.created\nactions:\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n',
  'secrets.yaml':
    'id: secrets\non: page.created\nactions:\n  - log: { message: "token xoxb-1234-5678-abcdefgh sent", fields: { api_key: "k-9f8e7d6c5b4a", user: "ada" } }\n',
  'done-only.yaml': 'id: done-only\non: page.created\nwhen: event.data.parent.type = "database"\nactions:\n  - log: { message: never }\n',
  'index.yaml':
    'id: index\non: comment.created\nactions:\n  - search.index: { id: "doc-1", title: "Quarterly <b>plan</b>", text: "roadmap for the onboarding checklist", url: "javascript:alert(1)" }\n',
};

async function service(overrides: Record<string, unknown> = {}): Promise<{ svc: TestService; watch: JobWatch; rules: string }> {
  const dir = tempDir();
  const watch = new JobWatch();
  const rules = rulesDir(RULES, join(dir, 'rules'));
  const svc = await startTestService(
    testConfig(
      { rules: { dir: rules }, slack: { token: slack.token, apiUrl: slack.url }, security: { adminToken: ADMIN }, log: { level: 'error' }, ...overrides },
      dir,
    ),
    { hooks: watch },
  );
  return { svc, watch, rules };
}

/** The data table behind chart `id`: its header and its rows of cells. */
function tableOf(page: string, id: string): { head: string[]; rows: string[][] } {
  const figure = new RegExp(`<figure class="chart[^"]*" id="${id}">([\\s\\S]*?)</figure>`).exec(page)?.[1];
  if (!figure) throw new Error(`no chart ${id}`);
  const cells = (row: string) => [...row.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ''));
  const head = cells(/<thead>([\s\S]*?)<\/thead>/.exec(figure)![1]!);
  const rows = [.../<tbody>([\s\S]*?)<\/tbody>/.exec(figure)![1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => cells(m[1]!));
  return { head, rows };
}

/** The sum of one column of a chart's data table. */
function columnSum(page: string, id: string, column: string): number {
  const { head, rows } = tableOf(page, id);
  const i = head.indexOf(column);
  if (i < 0) throw new Error(`chart ${id} has no column ${column}: ${head.join(', ')}`);
  return rows.reduce((a, r) => a + Number(r[i]), 0);
}

/** A browser-like client: follows no redirects, keeps the session cookie. */
class Client {
  cookie = '';
  constructor(private readonly base: string) {}

  async get(path: string): Promise<Response> {
    return fetch(`${this.base}${path}`, { redirect: 'manual', headers: this.cookie ? { cookie: this.cookie } : {} });
  }

  async post(path: string, form: Record<string, string>): Promise<Response> {
    const res = await fetch(`${this.base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: new URLSearchParams(form).toString(),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return res;
  }

  async login(token = ADMIN, next = '/console'): Promise<Response> {
    return this.post('/console/login', { token, next });
  }

  /** The CSRF token the pages put into their forms. */
  async csrf(): Promise<string> {
    const page = await (await this.get('/console')).text();
    return /name="csrf" value="([^"]+)"/.exec(page)![1]!;
  }
}

describe('console login and session', () => {
  it('sends visitors to the login form; a wrong token is refused; the right one sets a strict, HttpOnly cookie', async () => {
    const { svc } = await service();
    const c = new Client(svc.url);
    const first = await c.get('/console/dead?x=1');
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/console/login?next=%2Fconsole%2Fdead%3Fx%3D1');
    const form = await (await c.get('/console/login')).text();
    expect(form).toContain('<form method="post" action="/console/login">'); // the token travels in a POST body, never a URL
    expect(form).toMatch(/<label for="token">Admin token<\/label>\s*<input id="token" name="token" type="password"/);

    const wrong = await c.login('not-the-token');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That is not the admin token.');
    expect(c.cookie).toBe('');

    const ok = await c.login(ADMIN, '/console/dead?x=1');
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/console/dead?x=1');
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\/console/);
    expect(setCookie).not.toContain(ADMIN);
    const page = await c.get('/console/dead');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');

    // A forged or tampered cookie is no session.
    const forged = new Client(svc.url);
    forged.cookie = `notion_rules_console=${String(Math.floor(Date.now() / 1000) + 3600)}.AAAA`;
    expect((await forged.get('/console')).status).toBe(303);

    await c.post('/console/logout', { csrf: await c.csrf() });
    expect(c.cookie).toBe('notion_rules_console=');
    expect((await c.get('/console')).status).toBe(303);
  });

  it('never redirects to another site after login, nor after a replay', async () => {
    const { svc } = await service();
    const hostile = [
      'https://evil.example/console',
      '//evil.example/console',
      '/consolex',
      '/console\\..\\admin',
      '/console/..//evil.example',
      '/console/%2e%2e//evil.example',
      '/console/../../evil',
      '/console\t//evil.example',
    ];
    for (const next of hostile) {
      const res = await new Client(svc.url).login(ADMIN, next);
      expect(res.headers.get('location'), next).toBe('/console');
    }
    const c = new Client(svc.url);
    await c.login();
    const csrf = await c.csrf();
    for (const back of hostile) {
      const res = await c.post('/console/jobs/999/replay', { csrf, back });
      expect(res.headers.get('location'), back).toBe('/console/dead?replayed=0');
    }
    const inside = await c.post('/console/jobs/999/replay', { csrf, back: '/console/events/x?y=1' });
    expect(inside.headers.get('location')).toBe('/console/events/x?y=1&replayed=0');
  });

  it('logout ends the session everywhere: a copy of the cookie no longer works', async () => {
    const { svc } = await service();
    const c = new Client(svc.url);
    await c.login();
    const stolen = new Client(svc.url);
    stolen.cookie = c.cookie;
    expect((await stolen.get('/console')).status).toBe(200);
    await c.post('/console/logout', { csrf: await c.csrf() });
    expect((await stolen.get('/console')).status).toBe(303);
    const again = new Client(svc.url);
    await again.login();
    expect((await again.get('/console')).status).toBe(200);
  });

  it('throttles wrong tokens per client, with a wait that grows; the right token is refused while waiting', async () => {
    const { svc } = await service();
    const c = new Client(svc.url);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await c.login('wrong-token')).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses[3]).toBe(429);
    const waiting = await c.login(ADMIN);
    expect(waiting.status).toBe(429);
    expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await waiting.text()).toContain('Too many wrong tokens');
    expect(c.cookie).toBe('');
  });

  it('does not exist without security.adminToken, nor on the public port when server.adminPort is set', async () => {
    const plain = await startTestService(testConfig({ log: { level: 'error' } }));
    expect((await fetch(`${plain.url}/console`, { redirect: 'manual' })).status).toBe(404);

    const split = await startTestService(testConfig({ server: { adminPort: 0 }, security: { adminToken: ADMIN }, log: { level: 'error' } }));
    expect((await fetch(`${split.url}/console`, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${split.url}/console/login`)).status).toBe(404);
    expect((await fetch(`${split.adminUrl}/console`, { redirect: 'manual' })).status).toBe(303);
  });
});

describe('admin API', () => {
  it('masks secrets in rendered parameters and errors as the console does', async () => {
    const { svc, watch } = await service();
    const event = eventFrom('page.created.json');
    await postEvent(svc.webhook, event, SECRET);
    await watch.until(() => watch.count('dead') === 1 && watch.count('done') === 1);
    const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
    const detail = await (await fetch(`${svc.url}/admin/events/${event.id as string}`, auth)).text();
    expect(detail).toContain('"user":"ada"');
    expect(detail).not.toContain('xoxb-1234');
    expect(detail).not.toContain('k-9f8e7d6c5b4a');
    expect(detail).toContain('••••••');
  });
});

describe("an action's declared secrets", () => {
  it('http headers are masked in the console and the admin API whatever their names', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const rules = rulesDir(
      {
        'hook.yaml': `id: hook\non: page.created\nactions:\n  - http: { url: "${slack.url}nope", headers: { X-Custom: "plain-credential-42" }, body: { page: "{{ event.entity.id }}" } }\n`,
      },
      join(dir, 'rules'),
    );
    const svc = await startTestService(testConfig({ rules: { dir: rules }, security: { adminToken: ADMIN }, log: { level: 'error' } }, dir), { hooks: watch });
    const event = eventFrom('page.created.json');
    await postEvent(svc.webhook, event, SECRET);
    await watch.until(() => watch.count('dead') === 1);
    const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
    const detail = await (await fetch(`${svc.url}/admin/events/${event.id as string}`, auth)).text();
    const dead = await (await fetch(`${svc.url}/admin/dead`, auth)).text();
    const c = new Client(svc.url);
    await c.login();
    const page = await (await c.get(`/console/events/${encodeURIComponent(event.id as string)}`)).text();
    for (const shown of [detail, dead, page]) {
      expect(shown).not.toContain('plain-credential-42');
      expect(shown).toContain('••••••');
      expect(shown).toContain('/nope'); // the rest stays readable
    }
  });
});

describe('console pages', () => {
  it('shows an event: each rule outcome with the values a false condition read, rendered actions with secrets masked, attempts', async () => {
    const { svc, watch } = await service();
    const event = eventFrom('page.created.json', { workspace_name: '<script>alert("x")</script>' });
    await postEvent(svc.webhook, event, SECRET);
    await watch.until(() => watch.count('dead') === 1 && watch.count('done') === 1);
    const c = new Client(svc.url);
    await c.login();

    const list = await (await c.get('/console/events')).text();
    expect(list).toMatch(new RegExp(`${event.id as string}</a></td>\\s*<td><span class="badge bad">partly failed</span>`));

    const page = await (await c.get(`/console/events/${event.id as string}`)).text();
    // Rules: matched, and the one whose condition was false with what it read.
    expect(page).toMatch(/<code>ship<\/code><\/td>\s*<td><span class="badge ok">matched/);
    expect(page).toMatch(
      /<code>done-only<\/code><\/td>\s*<td><span class="badge muted">condition false<\/span><\/td>\s*<td>the condition read <pre class="json">[^<]*event\.data\.parent\.type[^<]*data_source/,
    );
    // Jobs: the dead Slack job with its error, the done log job with secrets masked.
    expect(page).toContain('Last error: slack: channel_not_found');
    expect(page).toMatch(
      /rule <code>ship<\/code> <span class="badge bad">dead<\/span><\/h3>\s*<p>1 failed attempt · next action 1 of 1<\/p>[\s\S]*?aria-label="Replay job \d+"/,
    );
    expect(page).toMatch(/rule <code>secrets<\/code> <span class="badge ok">done<\/span><\/h3>\s*<p>0 failed attempts · all 1 action done<\/p>/);
    expect(page).toContain('&quot;api_key&quot;: &quot;••••••&quot;');
    expect(page).toContain('token •••••• sent');
    expect(page).toContain('&quot;user&quot;: &quot;ada&quot;');
    expect(page).not.toContain('k-9f8e7d6c5b4a');
    expect(page).not.toContain('xoxb-1234');
    // Event data is text, never markup.
    expect(page).toContain('&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;');
    expect(page).not.toContain('<script>');

    expect((await c.get('/console/events/no-such-event')).status).toBe(404);
  });

  it("replays one dead job, or all, only with the session's CSRF token", async () => {
    const { svc, watch } = await service();
    for (let i = 0; i < 3; i++) await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('dead') === 3);
    const c = new Client(svc.url);
    await c.login();
    const dead = await (await c.get('/console/dead')).text();
    expect(dead).toContain('Replay all dead jobs (3)');
    const jobIds = [...dead.matchAll(/action="\/console\/jobs\/(\d+)\/replay"/g)].map((m) => m[1]!);
    expect(jobIds).toHaveLength(3);

    // Without the token (a cross-site form): refused, nothing replayed.
    const forged = await c.post(`/console/jobs/${jobIds[0]}/replay`, { csrf: 'guess' });
    expect(forged.status).toBe(403);
    expect(await svc.store.counts()).toMatchObject({ dead: 3 });

    slack.knownChannels!.add('#ship');
    const csrf = await c.csrf();
    const one = await c.post(`/console/jobs/${jobIds[0]}/replay`, { csrf, back: '/console/dead' });
    expect(one.headers.get('location')).toBe('/console/dead?replayed=1');
    await slack.untilMessages(1);
    expect(await (await c.get('/console/dead?replayed=1')).text()).toContain('1 job queued again');

    const all = await c.post('/console/dead/replay', { csrf });
    expect(all.headers.get('location')).toBe('/console/dead?replayed=2');
    await slack.untilMessages(3);
    await watch.until(() => watch.count('done') === 3 + 3);
    expect(new Set(slack.messages.map((m) => m.text)).size).toBe(3);
    expect(await (await c.get('/console/dead')).text()).toContain('No dead jobs.');
  });

  it('shows a destination paused by a 429 on every page: until when, why, and the calls waiting; not as degraded', async () => {
    slack.knownChannels = undefined;
    const { svc } = await service();
    slack.http.failNext(1, FakeSlack.rateLimited(30));
    for (let i = 0; i < 3; i++) await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await slack.http.until(() => slack.http.requests.some((r) => r.status === 429));
    const c = new Client(svc.url);
    await c.login();
    const page = async () => (await c.get('/console')).text();
    await expect
      .poll(page, { timeout: 5000 })
      .toMatch(/slack:#ship paused until 20\d\d-[^ ]+ \(slack: rate limited \(Retry-After 30s\)\); \d+ calls? waiting, no attempt spent/);
    expect(await page()).toContain('Status: <strong class="ok">ok</strong>');
  });

  it('opens on an overview: events, rule matches, action outcomes per destination and lag, each chart with its numbers as a table', async () => {
    const { svc, watch } = await service();
    const events = [0, 1, 2].map(() => eventFrom('page.created.json'));
    for (const e of events) expect((await postEvent(svc.webhook, e, SECRET)).status).toBe(200);
    await postEvent(svc.webhook, events[0], SECRET); // a duplicate
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), 'wrong-secret')).status).toBe(401);
    await watch.until(() => watch.count('dead') === 3 && watch.count('done') === 3);
    const c = new Client(svc.url);
    await c.login();
    const res = await c.get('/console');
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<h1>Overview</h1>');
    expect(page).toContain('<a href="/console" aria-current="page">Overview</a>');
    // Every chart is an image with a title and a description, and its numbers as a table.
    for (const id of ['chart-events', 'chart-rules', 'chart-actions', 'chart-lag'])
      expect(page).toMatch(new RegExp(`<figure class="chart" id="${id}">[\\s\\S]*?<svg [^>]*role="img" aria-labelledby="${id}-t" aria-describedby="${id}-d"`));
    expect(columnSum(page, 'chart-events', 'Stored')).toBe(3);
    expect(columnSum(page, 'chart-events', 'Duplicates')).toBe(1);
    expect(columnSum(page, 'chart-events', 'Rejected: invalid_signature')).toBe(1);
    expect(columnSum(page, 'chart-rules', 'Matched')).toBe(6); // ship and secrets, three events each
    expect(columnSum(page, 'chart-rules', 'Failed')).toBe(0);
    expect(columnSum(page, 'chart-actions', 'Delivered')).toBe(3); // the log actions
    expect(columnSum(page, 'chart-actions', 'Dead')).toBe(3); // Slack: channel_not_found
    expect(tableOf(page, 'chart-events').rows).toHaveLength(60); // the last hour, per minute
    // The destination, its state and its outcomes.
    expect(page).toMatch(/<tr data-destination="slack:#ship" data-state="(flowing|failing)">[\s\S]*?<td>0<\/td><td>0<\/td><td>0<\/td><td>3<\/td><\/tr>/);
    // The last 24 hours, per 15 minutes.
    const day = await (await c.get('/console?window=24h')).text();
    expect(tableOf(day, 'chart-events').rows).toHaveLength(96);
    expect(columnSum(day, 'chart-events', 'Stored')).toBe(3);
    // The event list moved; its old address still leads to it.
    const old = await c.get('/console?status=dead');
    expect(old.status).toBe(301);
    expect(old.headers.get('location')).toBe('/console/events?status=dead');
    // The rules page: each rule's last hour beside it.
    const rules = await (await c.get('/console/rules')).text();
    expect(rules).toMatch(/<code>ship<\/code>[\s\S]*?<td class="activity"><svg class="spark"[\s\S]*?3 matched · 0 failed · 0 throttled or digested/);
  });

  it("shows a destination whose service keeps failing as failing, with its breaker's error, until it answers again", async () => {
    slack.knownChannels = undefined;
    const { svc, watch } = await service({ delivery: { backoff: { baseMs: 20, maxMs: 200 } } });
    slack.http.failAll(FakeSlack.serverError(503));
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    const c = new Client(svc.url);
    await c.login();
    const row = async () => /<tr data-destination="slack:#ship" data-state="(\w+)">([\s\S]*?)<\/tr>/.exec(await (await c.get('/console')).text());
    await expect.poll(async () => (await row())?.[1], { timeout: 20_000 }).toBe('failing');
    expect((await row())![2]).toMatch(/breaker open after \d+ failures \([^)]*503[^)]*\); next probe <time/);
    slack.http.recover();
    await watch.until(() => watch.count('done') === 2, 30_000);
    expect((await row())![1]).toBe('flowing');
  });

  it('lists the active rules with file and version; a failed reload shows its problems and the rules that keep running', async () => {
    const { svc, rules } = await service();
    const c = new Client(svc.url);
    await c.login();
    const before = await (await c.get('/console/rules')).text();
    expect(before).toContain(svc.rules.current.version);
    expect(before).toMatch(/<code>ship<\/code><\/td>\s*<td class="mono">[^<]*ship\.yaml:1<\/td>/);

    writeFileSync(join(rules, 'bad.yaml'), 'id: bad\non: page.created\nwhen: "page.props.Status ="\nactions:\n  - log: { message: x }\n');
    const reload = await c.post('/console/rules/reload', { csrf: await c.csrf() });
    expect(reload.headers.get('location')).toBe('/console/rules');
    const after = await (await c.get('/console/rules')).text();
    expect(after).toContain('<span class="badge bad">failed</span>');
    expect(after).toMatch(/bad\.yaml:3: bad: when: /);
    expect(after).toContain(`the rules of version <code>${svc.rules.current.version}</code> keep running`);
    expect(after).toContain('Status: <strong class="warn">degraded</strong>');
  });

  it("searches the index; a result's title is text and a non-http url is not a link target", async () => {
    const { svc, watch } = await service();
    await postEvent(svc.webhook, eventFrom('comment.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 1);
    const c = new Client(svc.url);
    await c.login();
    const page = await (await c.get('/console/search?q=onboarding')).text();
    expect(page).toContain('1 result for “onboarding”');
    expect(page).toContain('<a href="#" rel="noreferrer">Quarterly &lt;b&gt;plan&lt;/b&gt;</a>');
    expect(page).toContain('[onboarding]');
    expect(await (await c.get('/console/search?q=nothingmatches')).text()).toContain('Nothing found for “nothingmatches”');
  });
});

describe('console rules page: pause, resume and the audit log', () => {
  it('pauses a rule for a while and resumes it; both appear in the audit page with the console as source', async () => {
    const { svc, watch } = await service();
    const c = new Client(svc.url);
    await c.login();
    const csrf = await c.csrf();
    expect((await c.post('/console/rules/ship/pause', { until: '4h' })).status).toBe(403); // no CSRF token: refused
    expect(await svc.store.pausedRules(Date.now())).toEqual([]);
    const res = await c.post('/console/rules/ship/pause', { csrf, until: '4h' });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/console/rules?done=paused']);
    const rulesPage = await (await c.get('/console/rules?done=paused')).text();
    expect(rulesPage).toContain('Rule paused: its matches make no jobs until it is resumed.');
    expect(rulesPage).toMatch(
      /<code>ship<\/code>[\s\S]*?paused<\/span> until <time[^>]*>[^<]+<\/time> by console[\s\S]*?action="\/console\/rules\/ship\/resume"/,
    );

    await postEvent(svc.webhook, eventFrom('page.created.json', { id: 'while-paused' }), SECRET);
    await watch.until(() => watch.outcomes.some((o) => o.rule === 'ship' && o.outcome === 'paused'));
    expect((await svc.store.getJobs('while-paused')).map((j) => j.ruleId)).not.toContain('ship');

    expect((await c.post('/console/rules/ship/resume', { csrf })).headers.get('location')).toBe('/console/rules?done=resumed');
    expect((await c.post('/console/rules/ship/resume', { csrf })).headers.get('location')).toBe('/console/rules?done=not-paused');
    const audit = await (await c.get('/console/audit?rule=ship')).text();
    expect(audit).toMatch(/<td>resume<\/td>\s*<td><code>ship<\/code><\/td>\s*<td>console<\/td>/);
    expect(audit).toMatch(/<td>pause<\/td>\s*<td><code>ship<\/code><\/td>\s*<td>console<\/td>\s*<td>until <time/);
  });
});
