import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sign } from '../../../src/receiver/sign.js';
import { eventFrom, notionFixture } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { loadConfig } from '../../../src/config/load.js';
import { SECRET, startTestService, testConfig } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

describe('POST /webhook: every row of the SPEC §3 status table', () => {
  it('200 on first delivery, then 200 duplicate, stored once', async () => {
    const svc = await startTestService(testConfig());
    const ev = eventFrom('page.created.json');
    const first = await postEvent(svc.webhook, ev, SECRET);
    expect(first).toMatchObject({ status: 200, body: { ok: true, id: ev.id } });
    expect(first.body.duplicate).toBeUndefined();
    const again = await postEvent(svc.webhook, { ...ev, attempt_number: 2 }, SECRET);
    expect(again).toMatchObject({ status: 200, body: { ok: true, id: ev.id, duplicate: true } });
    expect(await svc.store.countEvents()).toBe(1);
    const stored = await svc.store.getEvent(String(ev.id));
    expect(stored).toMatchObject({ duplicates: 1, event: { type: 'page.created', attempt_number: 1 } });
  });

  it('accepts events signed with an older token listed in notion.previousVerificationTokens (rotation), and no other', async () => {
    const OLD = 'old-verification-token-0123456789';
    const svc = await startTestService(testConfig({ notion: { previousVerificationTokens: [OLD] } }));
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), OLD)).status).toBe(200);
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET)).status).toBe(200);
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), 'another-token-0123456789')).status).toBe(401);
  });

  it('stores a seed-document envelope under its event_type', async () => {
    const svc = await startTestService(testConfig());
    const res = await postEvent(
      svc.webhook,
      { object: 'event', id: 'seed-9', created_time: '2026-11-20T14:00:00Z', event_type: 'page.updated', data: notionFixture('page.json') },
      SECRET,
    );
    expect(res.status).toBe(200);
    expect((await svc.store.getEvent('seed-9'))?.event).toMatchObject({ type: 'page.updated', entity: { type: 'page' } });
  });

  it('400 for JSON nested deeper than Notion ever sends; the console and admin pages never see it', async () => {
    const svc = await startTestService(testConfig());
    const deep = `{"id":"deep-1","type":"page.created","entity":{"id":"p","type":"page"},"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await postEvent(svc.webhook, deep, SECRET);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_event', detail: expect.stringContaining('nested deeper than 64 levels') } });
    expect(await svc.store.getEvent('deep-1')).toBeUndefined();
    const nested = (n: number): unknown => (n === 0 ? 'leaf' : { a: nested(n - 1) });
    expect((await postEvent(svc.webhook, eventFrom('page.created.json', { data: nested(50) }), SECRET)).status).toBe(200);
  });

  it('stores and answers 200 for an unknown event type', async () => {
    const svc = await startTestService(testConfig());
    const res = await postEvent(svc.webhook, eventFrom('page.created.json', { type: 'meeting.transcribed' }), SECRET);
    expect(res.status).toBe(200);
  });

  describe('401 invalid_signature, nothing stored', () => {
    const body = JSON.stringify(eventFrom('page.created.json'));
    it.each([
      ['a different secret', { 'x-notion-signature': sign('not-the-secret', body) }],
      ['a truncated signature', { 'x-notion-signature': sign(SECRET, body).slice(0, 30) }],
      ['a missing header', { 'x-notion-signature': '' }],
      ['a body changed after signing', { 'x-notion-signature': sign(SECRET, body.replace('page.created', 'page.deleted')) }],
      ['a non-hex header', { 'x-notion-signature': `sha256=${'g'.repeat(64)}` }],
      ['a 10 KB header', { 'x-notion-signature': `sha256=${'0'.repeat(10_000)}` }],
    ])('%s', async (_name, headers) => {
      const svc = await startTestService(testConfig());
      const res = await postEvent(svc.webhook, body, null, headers);
      expect(res).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });
      expect(await svc.store.countEvents()).toBe(0);
    });
  });

  it.each([
    ['not JSON', '{"id": "x", "type":', /^not JSON: /],
    ['a JSON array', '[1,2]', /^body must be a JSON object$/],
    ['no id', '{"type":"page.created"}', /^"id" must be a non-empty string$/],
    ['no type', '{"id":"abc"}', /^"type" must be a non-empty string$/],
  ])('400 invalid_event for %s, with a detail', async (_name, text, detail) => {
    const svc = await startTestService(testConfig());
    const res = await postEvent(svc.webhook, text, SECRET);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_event');
    expect(String(res.body.detail)).toMatch(detail);
    expect(await svc.store.countEvents()).toBe(0);
  });

  it('400 for a signed body that is not valid UTF-8', async () => {
    const svc = await startTestService(testConfig());
    const bytes = Buffer.concat([Buffer.from('{"id":"a","type":"page.created","x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await postEvent(svc.webhook, bytes, null, { 'x-notion-signature': sign(SECRET, bytes) });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_event', detail: 'body is not valid UTF-8' } });
  });

  it('413 over server.bodyLimit, before the body is parsed', async () => {
    const svc = await startTestService(testConfig({ server: { bodyLimit: 2048 } }));
    const big = JSON.stringify(eventFrom('page.created.json', { pad: 'x'.repeat(4096) }));
    const res = await postEvent(svc.webhook, big, SECRET);
    expect(res.status).toBe(413);
    expect(await svc.store.countEvents()).toBe(0);
  });

  it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['multipart/form-data; boundary=x']])('415 for content type %s', async (type) => {
    const svc = await startTestService(testConfig());
    const body = JSON.stringify(eventFrom('page.created.json'));
    const res = await postEvent(svc.webhook, body, SECRET, { 'content-type': type, 'x-notion-signature': sign(SECRET, body) });
    expect(res.status).toBe(415);
    expect(await svc.store.countEvents()).toBe(0);
  });

  it('accepts application/json with a charset parameter', async () => {
    const svc = await startTestService(testConfig());
    const body = JSON.stringify(eventFrom('page.created.json'));
    const res = await postEvent(svc.webhook, body, SECRET, { 'content-type': 'application/json; charset=utf-8', 'x-notion-signature': sign(SECRET, body) });
    expect(res.status).toBe(200);
  });

  it('503 while the store cannot write, never 200 for an event it did not keep; recovers after', async () => {
    const cfg = testConfig({ security: { adminToken: 'admin-token-0123456789abcdef' } });
    const svc = await startTestService(cfg);
    // A real write failure inside the real database file, injected from a second connection.
    const other = new Database(cfg.store.url.slice('sqlite:'.length));
    // Every write refused, as on a full or read-only disk: the matcher's and runner's polls
    // (UPDATEs) must not succeed meanwhile and make the store look writable again.
    const refuse = ['INSERT ON events', 'UPDATE ON events', 'DELETE ON events', 'UPDATE ON jobs', 'INSERT ON jobs'];
    refuse.forEach((on, i) => other.exec(`CREATE TRIGGER refuse${i} BEFORE ${on} BEGIN SELECT RAISE(ABORT, 'injected write failure'); END`));
    const ev = eventFrom('page.created.json');
    const refused = await postEvent(svc.webhook, ev, SECRET);
    expect(refused).toMatchObject({ status: 503, body: { error: 'store_unavailable' } });
    const health = await fetch(`${svc.url}/health`, { headers: { authorization: 'Bearer admin-token-0123456789abcdef' } });
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'error', store: { ok: false } });

    refuse.forEach((_, i) => other.exec(`DROP TRIGGER refuse${i}`));
    other.close();
    const retried = await postEvent(svc.webhook, ev, SECRET);
    expect(retried).toMatchObject({ status: 200, body: { ok: true, id: ev.id } });
    expect(retried.body.duplicate).toBeUndefined();
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
  });

  it('200 concurrent posts of one event id store exactly one event', async () => {
    const svc = await startTestService(testConfig({ log: { level: 'warn' } }));
    const ev = eventFrom('page.properties_updated.json');
    const results = await Promise.all(Array.from({ length: 200 }, () => postEvent(svc.webhook, ev, SECRET)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.body.duplicate !== true)).toHaveLength(1);
    expect(await svc.store.countEvents()).toBe(1);
    expect((await svc.store.getEvent(String(ev.id)))?.duplicates).toBe(199);
  });

  it('accepts unsigned events only when security.allowUnsigned is true', async () => {
    const svc = await startTestService(testConfig({ notion: { verificationToken: null }, security: { allowUnsigned: true } }));
    const res = await postEvent(svc.webhook, eventFrom('page.created.json'), null);
    expect(res.status).toBe(200);
  });
});

describe('verification handshake', () => {
  it('before a token is configured: answers 200 unsigned, logs the first token once at warn, and keeps it', async () => {
    const svc = await startTestService(testConfig({ notion: { verificationToken: null } }), { handshakeOnly: true });
    const body = notionFixture('verification.json');
    for (let i = 0; i < 3; i++) expect((await postEvent(svc.webhook, body, null)).status).toBe(200);
    const warned = svc.logs.filter((l) => l.level === 'warn' && l.verificationTokenReceived === body.verification_token);
    expect(warned).toHaveLength(1);
    expect(await svc.store.getMeta('verification_token')).toBe(body.verification_token);
    expect(await svc.store.countEvents()).toBe(0);
  });

  it('keeps the first token: a replayed or forged handshake is logged once and not stored', async () => {
    const svc = await startTestService(testConfig({ notion: { verificationToken: null } }), { handshakeOnly: true });
    const first = notionFixture('verification.json');
    expect((await postEvent(svc.webhook, first, null)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await postEvent(svc.webhook, { verification_token: 'secret_attacker-token' }, null)).status).toBe(200);
    expect(await svc.store.getMeta('verification_token')).toBe(first.verification_token);
    expect(svc.logs.filter((l) => l.verificationTokenIgnored === 'secret_attacker-token')).toHaveLength(1);
  });

  it('of handshakes arriving together, exactly one is kept and the others are only logged', async () => {
    const svc = await startTestService(testConfig({ notion: { verificationToken: null } }), { handshakeOnly: true });
    const tokens = Array.from({ length: 10 }, (_, i) => `secret_token-${i}`);
    await Promise.all(tokens.map((t) => postEvent(svc.webhook, { verification_token: t }, null)));
    const kept = await svc.store.getMeta('verification_token');
    expect(tokens).toContain(kept);
    expect(svc.logs.filter((l) => l.verificationTokenReceived !== undefined)).toEqual([expect.objectContaining({ verificationTokenReceived: kept })]);
    expect(svc.logs.filter((l) => l.verificationTokenIgnored !== undefined)).toHaveLength(9);
  });

  it('once a token is configured, an unsigned handshake is 401 and stores nothing', async () => {
    const svc = await startTestService(testConfig());
    expect((await postEvent(svc.webhook, notionFixture('verification.json'), null)).status).toBe(401);
    expect(await svc.store.getMeta('verification_token')).toBeFalsy();
  });

  it('works in handshake-only mode, where every event is refused', async () => {
    const svc = await startTestService(testConfig({ notion: { verificationToken: null } }), { handshakeOnly: true });
    expect((await postEvent(svc.webhook, notionFixture('verification.json'), null)).status).toBe(200);
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), SECRET)).status).toBe(401);
  });

  it('never logs signatures', async () => {
    const svc = await startTestService(testConfig());
    const ev = eventFrom('page.created.json');
    const sig = sign(SECRET, JSON.stringify(ev));
    await postEvent(svc.webhook, ev, SECRET);
    await postEvent(svc.webhook, ev, SECRET);
    await postEvent(svc.webhook, JSON.stringify(ev), null, { 'x-notion-signature': sig.slice(0, 20) });
    const all = JSON.stringify(svc.logs);
    expect(all).not.toContain(sig.slice(7));
    expect(all).not.toContain(SECRET);
  });
});

describe('GET /health', () => {
  it('tells anyone the status and counts; the details need the admin token', async () => {
    const svc = await startTestService(testConfig({ security: { adminToken: 'admin-token-0123456789abcdef' } }));
    const open = await fetch(`${svc.url}/health`);
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ status: 'ok', counts: { rules: 0, queueDepth: 0, awaitingMatch: 0, dead: 0, failedEvents: 0 } });
    expect(await (await fetch(`${svc.url}/health`, { headers: { authorization: 'Bearer wrong' } })).json()).not.toHaveProperty('version');
    const res = await fetch(`${svc.url}/health`, { headers: { authorization: 'Bearer admin-token-0123456789abcdef' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      uptimeSeconds: expect.any(Number),
      store: { ok: true, kind: 'sqlite', schemaVersion: expect.any(Number) },
    });
  });
});

describe('verification token rotation through a secret file', () => {
  it('a rotated secret file is read again on POST /admin/reload: the old token stops working, the new one works', async () => {
    const dir = tempDir();
    const OLD = 'old-verification-token-0123456789';
    const NEW = 'new-verification-token-9876543210';
    const ADMIN = 'admin-token-0123456789abcdef';
    writeFileSync(join(dir, 'tokens'), `${OLD}\n`);
    mkdirSync(join(dir, 'rules'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `server: { host: 127.0.0.1, port: 0 }\nnotion:\n  verificationToken: ["\${file:${join(dir, 'tokens')}}"]\nsecurity: { adminToken: ${ADMIN} }\nstore: { url: "sqlite:${join(dir, 's.db')}" }\nrules: { dir: ${join(dir, 'rules')}, watch: false }\nlog: { level: warn }\n`,
    );
    const svc = await startTestService(loadConfig(file, { env: {} }));
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), OLD)).status).toBe(200);
    // The secret is rotated: both for a while, then only the new one.
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        `verificationToken: ["\${file:${join(dir, 'tokens')}}"]`,
        `verificationToken: ["${NEW}", "\${file:${join(dir, 'tokens')}}"]`,
      ),
    );
    await fetch(`${svc.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), NEW)).status).toBe(200);
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), OLD)).status).toBe(200);
    writeFileSync(join(dir, 'tokens'), `${NEW}\n`);
    await fetch(`${svc.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), OLD)).status).toBe(401);
    expect((await postEvent(svc.webhook, eventFrom('page.created.json'), NEW)).status).toBe(200);
  });
});

describe('probes', () => {
  it('/livez says the process answers; /readyz that the store is reachable and rules are loaded, with no token', async () => {
    const svc = await startTestService(testConfig());
    expect(await (await fetch(`${svc.url}/livez`)).json()).toEqual({ status: 'alive' });
    const ready = await fetch(`${svc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', rulesVersion: svc.rules.current.version });
  });
});
