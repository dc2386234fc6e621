import { mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReloadStatus } from '../../../src/engine/coordinator.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET, startTestService, testConfig, type TestService } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const ADMIN = 'admin-token-0123456789abcdef';
const rule = (id: string, on = 'page.created') => `id: ${id}\non: ${on}\nactions:\n  - log: { message: "${id} fired" }\n`;

async function service(rules: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  const dir = tempDir();
  const rulesPath = join(dir, 'rules');
  mkdirSync(rulesPath, { recursive: true });
  for (const [name, text] of Object.entries(rules)) writeFileSync(join(rulesPath, name), text);
  const svc = await startTestService(
    testConfig({ rules: { dir: rulesPath, watch: true, pollIntervalMs: 300 }, security: { adminToken: ADMIN }, log: { level: 'info' }, ...extra }, dir),
  );
  return { svc, rulesPath };
}

/** Resolves with the next reload the service performs (by any trigger). */
function nextReload(svc: TestService): Promise<ReloadStatus> {
  return new Promise((resolve) => {
    let done = false;
    svc.rules.onReload((status) => {
      if (!done) {
        done = true;
        resolve(status);
      }
    });
  });
}

/** Posts an event and returns the ids of the rules that matched it, once it is dispatched. */
async function firedBy(svc: TestService, overrides: Record<string, unknown> = {}): Promise<string[]> {
  const ev = eventFrom('page.created.json', overrides);
  expect((await postEvent(svc.webhook, ev, SECRET)).status).toBe(200);
  let report: Array<{ rule: string; matched: boolean }> = [];
  await expect
    .poll(async () => {
      const stored = await svc.store.getEvent(String(ev.id));
      report = (stored?.report ?? []) as typeof report;
      return stored?.status;
    })
    .toBe('dispatched');
  return report
    .filter((r) => r.matched)
    .map((r) => r.rule)
    .sort();
}

const admin = (svc: TestService, path: string, init: RequestInit = {}) =>
  fetch(`${svc.url}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...(init.headers ?? {}) } });

describe('hot reload under a running server', () => {
  it('a rule added by a reload that reads event.stale sees the events processed before it', async () => {
    // No rule reads `stale` at first, so the store does not record entity times; the reload
    // that brings one rebuilds the record before that rule sees an event.
    const { svc, rulesPath } = await service({ 'a.yaml': rule('a') });
    const entity = { id: 'page-out-of-order', type: 'page' };
    expect(await firedBy(svc, { timestamp: '2026-11-20T12:00:00.000Z', entity })).toEqual(['a']);
    // No rule listens to page.moved: stored as processed at once, and counted like any other.
    expect(await firedBy(svc, { type: 'page.moved', timestamp: '2026-11-20T12:45:00.000Z', entity })).toEqual([]);

    const reload = nextReload(svc);
    writeFileSync(join(rulesPath, 'late.yaml'), 'id: late\non: page.created\nwhen: event.stale\nactions:\n  - log: { message: "superseded" }\n');
    expect((await reload).ok).toBe(true);
    expect(await firedBy(svc, { timestamp: '2026-11-20T11:00:00.000Z', entity })).toEqual(['a', 'late']);
    expect(await firedBy(svc, { timestamp: '2026-11-20T12:30:00.000Z', entity })).toEqual(['a', 'late']);
    expect(await firedBy(svc, { timestamp: '2026-11-20T13:00:00.000Z', entity })).toEqual(['a']);
    expect(await firedBy(svc, { timestamp: '2026-11-20T12:50:00.000Z', entity })).toEqual(['a', 'late']);
    await svc.stop();
  });

  it('picks up edited, added, deleted and renamed files on the next event', async () => {
    const { svc, rulesPath } = await service({ 'a.yaml': rule('a') });
    expect(await firedBy(svc)).toEqual(['a']);

    let reload = nextReload(svc);
    writeFileSync(join(rulesPath, 'a.yaml'), rule('a', 'page.deleted'));
    expect((await reload).ok).toBe(true);
    expect(await firedBy(svc)).toEqual([]);

    reload = nextReload(svc);
    mkdirSync(join(rulesPath, 'team'));
    writeFileSync(join(rulesPath, 'team', 'b.yaml'), rule('b'));
    await reload;
    expect(await firedBy(svc)).toEqual(['b']);

    reload = nextReload(svc);
    renameSync(join(rulesPath, 'team', 'b.yaml'), join(rulesPath, 'team', 'b.yaml.disabled'));
    await reload;
    expect(await firedBy(svc)).toEqual([]);

    reload = nextReload(svc);
    renameSync(join(rulesPath, 'team', 'b.yaml.disabled'), join(rulesPath, 'b-renamed.yml'));
    await reload;
    expect(await firedBy(svc)).toEqual(['b']);

    reload = nextReload(svc);
    unlinkSync(join(rulesPath, 'b-renamed.yml'));
    await reload;
    expect(await firedBy(svc)).toEqual([]);
  });

  it('an editor writing a temp file and renaming it over the rule', async () => {
    const { svc, rulesPath } = await service({ 'a.yaml': rule('old') });
    const reload = nextReload(svc);
    writeFileSync(join(rulesPath, '.a.yaml.swp'), rule('new'));
    renameSync(join(rulesPath, '.a.yaml.swp'), join(rulesPath, 'a.yaml'));
    expect((await reload).ok).toBe(true);
    expect(await firedBy(svc)).toEqual(['new']);
  });

  it("a Kubernetes ConfigMap's atomic ..data symlink swap", async () => {
    const dir = tempDir();
    const rulesPath = join(dir, 'rules');
    mkdirSync(join(rulesPath, '..2026_11_24_01'), { recursive: true });
    writeFileSync(join(rulesPath, '..2026_11_24_01', 'rules.yaml'), rule('v1'));
    symlinkSync('..2026_11_24_01', join(rulesPath, '..data'));
    symlinkSync('..data/rules.yaml', join(rulesPath, 'rules.yaml'));
    const svc = await startTestService(testConfig({ rules: { dir: rulesPath, watch: true, pollIntervalMs: 300 }, log: { level: 'info' } }, dir));
    expect(await firedBy(svc)).toEqual(['v1']);

    const reload = nextReload(svc);
    mkdirSync(join(rulesPath, '..2026_11_24_02'));
    writeFileSync(join(rulesPath, '..2026_11_24_02', 'rules.yaml'), rule('v2'));
    symlinkSync('..2026_11_24_02', join(rulesPath, '..data_tmp'));
    renameSync(join(rulesPath, '..data_tmp'), join(rulesPath, '..data')); // what kubelet does
    rmSync(join(rulesPath, '..2026_11_24_01'), { recursive: true });
    expect((await reload).ok).toBe(true);
    expect(await firedBy(svc)).toEqual(['v2']);
    expect(svc.rules.current.rules).toHaveLength(1); // no duplicates through ..data
  });

  it('an invalid edit keeps the old rules, visible on /health and /admin/rules; a fix takes effect', async () => {
    const { svc, rulesPath } = await service({ 'a.yaml': rule('good') });
    const goodVersion = svc.rules.current.version;
    let reload = nextReload(svc);
    writeFileSync(join(rulesPath, 'a.yaml'), 'id: good\non: page.created\nwhen: "page.title = "\nactions:\n  - log: { message: x }\n');
    expect((await reload).ok).toBe(false);
    expect(await firedBy(svc)).toEqual(['good']);

    // Anyone sees the status and counts; the reasons and paths need the admin token.
    const open = (await (await fetch(`${svc.url}/health`)).json()) as Record<string, any>;
    expect(open).toEqual({
      status: 'degraded',
      counts: { rules: 1, queueDepth: expect.any(Number), awaitingMatch: expect.any(Number), dead: 0, failedEvents: 0 },
    });
    const health = (await (await admin(svc, '/health')).json()) as Record<string, any>;
    expect(health.status).toBe('degraded');
    expect(health.reasons[0]).toMatch(/the last rules reload failed \(1 problem\); version .* is running/);
    expect(health.rules).toMatchObject({ version: goodVersion, count: 1, lastReload: { ok: false, trigger: 'watch' } });
    expect(health.rules.lastReload.problems[0]).toMatchObject({
      file: join(rulesPath, 'a.yaml'),
      line: 3,
      where: 'good',
      message: expect.stringContaining('JSONata syntax error'),
    });
    const listed = (await (await admin(svc, '/admin/rules')).json()) as Record<string, any>;
    expect(listed).toMatchObject({ version: goodVersion, count: 1, lastReload: { ok: false } });
    expect(
      svc.logs.some((l) => l.level === 'error' && l.msg === 'rules reload failed; the running rules stay' && String(l.problems).includes('a.yaml:3')),
    ).toBe(true);

    reload = nextReload(svc);
    writeFileSync(join(rulesPath, 'a.yaml'), rule('fixed'));
    expect((await reload).ok).toBe(true);
    expect(await firedBy(svc)).toEqual(['fixed']);
    expect(((await (await fetch(`${svc.url}/health`)).json()) as { status: string }).status).toBe('ok');
  });

  it('POST /admin/reload reports the result; a load of events through 20 reloads loses none, each sees one rule set', async () => {
    const { svc, rulesPath } = await service({ 'a.yaml': rule('gen-0') }, { rules: { watch: false } });
    const versions = new Map<string, string>([[svc.rules.current.version, 'gen-0']]);
    const sent: string[] = [];
    const statuses: number[] = [];
    const load = (async () => {
      for (let wave = 0; wave < 25; wave++) {
        const evs = Array.from({ length: 20 }, () => eventFrom('page.created.json'));
        sent.push(...evs.map((e) => String(e.id)));
        statuses.push(...(await Promise.all(evs.map((e) => postEvent(svc.webhook, e, SECRET)))).map((r) => r.status));
      }
    })();
    for (let i = 1; i <= 20; i++) {
      writeFileSync(join(rulesPath, 'a.yaml'), rule(`gen-${i}`));
      const res = await admin(svc, '/admin/reload', { method: 'POST' });
      const body = (await res.json()) as { ok: boolean; activeVersion: string };
      expect(res.status).toBe(200);
      versions.set(body.activeVersion, `gen-${i}`);
    }
    await load;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(sent).toHaveLength(500);
    for (const id of sent) {
      await expect.poll(async () => (await svc.store.getEvent(id))?.status).toBe('dispatched');
      const stored = (await svc.store.getEvent(id))!;
      const fired = (stored.report as Array<{ rule: string; matched: boolean }>).filter((r) => r.matched).map((r) => r.rule);
      // Exactly one rule set: the one rule of the version recorded for the event.
      expect(fired).toEqual([versions.get(stored.rulesVersion!)]);
    }
    const failed = await admin(svc, '/admin/reload', { method: 'POST' });
    expect(failed.status).toBe(200); // same content again is fine
    writeFileSync(join(rulesPath, 'a.yaml'), 'id: [broken');
    const bad = await admin(svc, '/admin/reload', { method: 'POST' });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ ok: false, problems: [expect.objectContaining({ line: 1, message: expect.stringMatching(/^YAML: /) })] });
  });
});
