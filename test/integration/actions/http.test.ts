import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRules } from '../../../src/engine/load.js';
import { HttpFake } from '../../fakes/http-fake.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { rulesDir, ruleSetOf } from '../../support/rules.js';
import { JobWatch, SECRET, startTestService, testConfig } from '../../support/server.js';
import { evaluateEvent } from '../../../src/engine/evaluate.js';
import { normalize } from '../../../src/model/normalize.js';
import { tempDir } from '../../support/tmp.js';

let target: HttpFake;
let url = '';
beforeEach(async () => {
  target = new HttpFake(() => ({ status: 204, body: {} }));
  url = await target.start();
});
afterEach(() => target.stop());

describe('http action', () => {
  it('POSTs the rendered JSON body, signed with HMAC-SHA256 of the exact bytes', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const rules = rulesDir(
      {
        'a.yaml': `id: hook\non: page.created\nactions:\n  - http:\n      url: "${url}/hooks/{{ event.entity.type }}"\n      headers: { X-Team: growth }\n      body: { id: "{{ event.id }}", n: "{{ 1 + 1 }}" }\n      sign: true\n`,
      },
      join(dir, 'rules'),
    );
    const svc = await startTestService(testConfig({ rules: { dir: rules }, http: { signingSecret: 'hook-secret' }, log: { level: 'warn' } }, dir), {
      hooks: watch,
    });
    const ev = eventFrom('page.created.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('done') === 1);
    const [req] = target.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/hooks/page', body: { id: ev.id, n: 2 } });
    expect(req!.headers['x-team']).toBe('growth');
    const bytes = JSON.stringify({ id: ev.id, n: 2 });
    expect(req!.headers['x-notion-rules-signature']).toBe(`sha256=${createHmac('sha256', 'hook-secret').update(bytes).digest('hex')}`);
  });

  it('templates cannot move the request to another host', async () => {
    // Glued to the host, a template could extend it: refused when the rule loads.
    const glued = rulesDir({ 'a.yaml': 'id: hook\non: page.created\nactions:\n  - http: { url: "https://api.example.com{{ event.data.evil }}/x" }\n' });
    expect(loadRules(glued, { evalTimeoutMs: 100 }).problems[0]?.message).toMatch(/must start with a fixed scheme and host/);
    // In the path, hostile values stay in the path: the rendered origin is checked again.
    const ruleSet = ruleSetOf({ 'a.yaml': 'id: hook\non: page.created\nactions:\n  - http: { url: "https://api.example.com/{{ event.data.evil }}" }\n' });
    for (const evil of ['@attacker.net', '\\\\attacker.net/x', '../../x']) {
      const [o] = await evaluateEvent(ruleSet, normalize(eventFrom('page.created.json', { data: { evil } })));
      expect(o).toMatchObject({ matched: true });
      expect(new URL(String((o as unknown as { actions: Array<{ params: { url: string } }> }).actions[0]!.params.url)).origin).toBe('https://api.example.com');
    }
  });

  it('a URL whose host is a template is rejected when the rule loads', () => {
    const dir = rulesDir({ 'a.yaml': 'id: hook\non: page.created\nactions:\n  - http: { url: "{{ page.props.Webhook }}" }\n' });
    expect(loadRules(dir, { evalTimeoutMs: 100 }).problems).toEqual([
      expect.objectContaining({ line: 4, where: 'hook', message: expect.stringContaining('actions[0].http.url: must start with a fixed scheme and host') }),
    ]);
  });

  it('event content is percent-encoded in the path and query: it cannot reach another path or add parameters', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    const rules = rulesDir(
      {
        'a.yaml': `id: hook\non: page.created\nactions:\n  - http: { url: "${url}/hooks/{{ event.data.title }}?q={{ event.data.title }}&raw={{{ event.data.plain }}}" }\n`,
      },
      join(dir, 'rules'),
    );
    const svc = await startTestService(testConfig({ rules: { dir: rules }, log: { level: 'warn' } }, dir), { hooks: watch });
    await postEvent(svc.webhook, eventFrom('page.created.json', { data: { title: '../admin/danger?token=x&admin=1#f', plain: 'a-b' } }), SECRET);
    await watch.until(() => watch.count('done') === 1);
    const [req] = target.requests;
    expect(req!.url).toBe('/hooks/..%2Fadmin%2Fdanger%3Ftoken%3Dx%26admin%3D1%23f?q=..%2Fadmin%2Fdanger%3Ftoken%3Dx%26admin%3D1%23f&raw=a-b');
    expect(new URL(req!.url, url).searchParams.get('q')).toBe('../admin/danger?token=x&admin=1#f');
  });

  it('a value that makes a "." or ".." path segment, or a header with a line break, fails that rule visibly', async () => {
    const ruleSet = ruleSetOf({
      'a.yaml': 'id: dots\non: page.created\nactions:\n  - http: { url: "https://api.example.com/hooks/{{ event.data.evil }}/x" }\n',
      'b.yaml': 'id: header\non: page.created\nactions:\n  - http: { url: "https://api.example.com/h", headers: { X-Title: "{{ event.data.evil }}" } }\n',
    });
    const [dots] = await evaluateEvent(ruleSet, normalize(eventFrom('page.created.json', { data: { evil: '..' } })));
    expect(dots).toMatchObject({ matched: false, reason: 'render_error', error: expect.stringContaining('"." or ".." segment') });
    const outcomes = await evaluateEvent(ruleSet, normalize(eventFrom('page.created.json', { data: { evil: 'x\r\nX-Admin: 1' } })));
    expect(outcomes[1]).toMatchObject({
      rule: 'header',
      matched: false,
      reason: 'render_error',
      error: expect.stringContaining('header "X-Title" renders to a value with a line break'),
    });
  });

  it('errors name the origin and path only, with a short masked excerpt of the answer', async () => {
    target.failAll({ kind: 'status', status: 400, body: { error: 'bad', leaked: 'xoxb-1234-5678-abcdefgh', filler: 'z'.repeat(500) } });
    const dir = tempDir();
    const watch = new JobWatch();
    const rules = rulesDir(
      { 'a.yaml': `id: hook\non: page.created\nactions:\n  - http: { url: "${url}/hooks/x?api_key=s3cr3t-value" }\n` },
      join(dir, 'rules'),
    );
    const svc = await startTestService(testConfig({ rules: { dir: rules }, log: { level: 'warn' } }, dir), { hooks: watch });
    const ev = eventFrom('page.created.json');
    await postEvent(svc.webhook, ev, SECRET);
    await watch.until(() => watch.count('dead') === 1);
    const [job] = await svc.store.getJobs(String(ev.id));
    expect(job!.lastError).toMatch(new RegExp(`^http POST ${url}/hooks/x: 400 `));
    expect(job!.lastError).not.toContain('s3cr3t');
    expect(job!.lastError).not.toContain('xoxb-1234');
    expect(job!.lastError!.length).toBeLessThan(200);
  });

  it('every try of one action carries the same Idempotency-Key (a retry after a timeout included); other actions and events get their own', async () => {
    const dir = tempDir();
    const watch = new JobWatch();
    target.failNext(1, { kind: 'slow', ms: 1500 }); // answered after the client gave up: it may have been done
    const rules = rulesDir(
      { 'a.yaml': `id: hook\non: page.created\nactions:\n  - http: { url: "${url}/one" }\n  - http: { url: "${url}/two" }\n` },
      join(dir, 'rules'),
    );
    const svc = await startTestService(
      testConfig({ rules: { dir: rules }, http: { timeoutMs: 300 }, delivery: { backoff: { baseMs: 10, maxMs: 20 } }, log: { level: 'fatal' } }, dir),
      { hooks: watch },
    );
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET);
    await watch.until(() => watch.count('done') === 2);
    await target.until(() => target.requests.length === 5);
    const keys = (path: string) => target.requests.filter((r) => r.path === path).map((r) => r.headers['idempotency-key']);
    const one = keys('/one');
    expect(one).toHaveLength(3); // the slow first try, its retry, the other event's
    expect(one.every((k) => /^nr-[0-9a-f]{32}$/.test(String(k)))).toBe(true);
    expect(new Set(one).size).toBe(2);
    const two = keys('/two');
    expect(two).toHaveLength(2);
    expect(two.some((k) => one.includes(k))).toBe(false);
  });
});
