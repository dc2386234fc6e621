import fc from 'fast-check';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { sign } from '../../src/receiver/sign.js';
import { eventFrom } from '../support/fixtures.js';
import { SECRET, startTestService, testConfig } from '../support/server.js';
import { scale } from '../support/soak.js';

const RUNS = scale(400, 20_000);

/** A raw HTTP POST (fetch would refuse some of these headers and bodies). */
function rawPost(url: string, body: Buffer, headers: Array<[string, string]>): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h: Record<string, string | string[]> = { 'content-length': String(body.length) };
    for (const [k, v] of headers) h[k] = h[k] === undefined ? v : [...[h[k]].flat(), v]; // repeated headers stay repeated
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: h }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const jsonish = fc.oneof(
  fc.json({ depthSize: 'large' }),
  fc.string({ unit: 'binary', maxLength: 2000 }),
  fc.jsonValue().map((v) => JSON.stringify(v).slice(0, Math.max(0, JSON.stringify(v).length - 3))), // truncated
  fc.constant('{"id":'.repeat(2000)), // deep, broken nesting
  fc.constant(`[${'['.repeat(5000)}${']'.repeat(5000)}]`), // deep nesting
  fc.record({ id: fc.anything(), type: fc.anything(), timestamp: fc.anything(), entity: fc.anything(), data: fc.anything(), authors: fc.anything(), attempt_number: fc.anything() }).map((o) => JSON.stringify(o)),
);
const bytes = fc.oneof(
  jsonish.map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)), // invalid UTF-8 and everything else
);
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', '', 'APPLICATION/JSON');
const odd = fc.oneof(fc.string({ maxLength: 100 }), fc.constant('é'.repeat(40)), fc.constant('a'.repeat(10_240)), fc.constant(`sha256=${'0'.repeat(64)}`));

describe('fuzzed webhook input', () => {
  it('unsigned or wrongly signed requests: always 401/413/415, never stored, never a crash', { timeout: scale(30_000, 1_800_000) }, async () => {
    const svc = await startTestService(testConfig({ log: { level: 'fatal' } }));
    let runs = 0;
    await fc.assert(
      // Two signature headers at most, one of them long: under Node's 16 KB header limit (tested below).
      fc.asyncProperty(bytes, contentType, fc.tuple(odd, fc.option(fc.string({ maxLength: 100 }), { nil: undefined })), async (body, type, [first, second]) => {
        const sigs = second === undefined ? [first] : [first, second];
        runs++;
        const headers: Array<[string, string]> = [];
        if (type) headers.push(['content-type', type]);
        for (const s of sigs) headers.push(['x-notion-signature', s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '')]);
        const status = await rawPost(svc.webhook, body, headers);
        // The handshake body is the one unsigned thing accepted (200); fuzzing may build one.
        const handshake = /^\{"verification_token":"[^"]+"\}$/.test(body.toString());
        expect(handshake ? [200, 401, 415] : [401, 413, 415]).toContain(status);
      }),
      { numRuns: RUNS },
    );
    expect(await svc.store.countEvents()).toBe(0);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    expect(runs).toBe(RUNS);
  });

  it('validly signed arbitrary bodies: 200 or 400 with a detail, and only well-formed events stored', { timeout: scale(30_000, 1_800_000) }, async () => {
    const svc = await startTestService(testConfig({ log: { level: 'fatal' } }));
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(bytes, async (body) => {
        const status = await rawPost(svc.webhook, body, [['content-type', 'application/json'], ['x-notion-signature', sign(SECRET, body)]]);
        expect([200, 400, 413]).toContain(status);
        if (status === 200) accepted++;
      }),
      { numRuns: RUNS },
    );
    // Wrong types in every envelope field of a real event.
    const fields = ['id', 'type', 'timestamp', 'entity', 'data', 'authors', 'attempt_number', 'workspace_id'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer()), fc.string(), fc.object()), async (field, value) => {
        const ev = { ...eventFrom('page.created.json'), [field]: value };
        const text = JSON.stringify(ev);
        const status = await rawPost(svc.webhook, Buffer.from(text), [['content-type', 'application/json'], ['x-notion-signature', sign(SECRET, text)]]);
        expect([200, 400]).toContain(status);
        if (status === 200) accepted++;
      }),
      { numRuns: RUNS / 2 },
    );
    expect(await svc.store.countEvents()).toBeLessThanOrEqual(accepted);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
  });

  it('headers past the 16 KB limit are refused by the HTTP layer, and the server carries on', async () => {
    const svc = await startTestService(testConfig({ log: { level: 'fatal' } }));
    const status = await rawPost(svc.webhook, Buffer.from('{}'), [['content-type', 'application/json'], ['x-notion-signature', 'a'.repeat(10_240)], ['x-notion-signature', 'b'.repeat(10_240)]]).catch(
      (err: NodeJS.ErrnoException) => err.code, // Node answers 431 and may close before the body is sent
    );
    expect([431, 'ECONNRESET', 'EPIPE']).toContain(status);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    expect(await svc.store.countEvents()).toBe(0);
  });

  it('a 10 MB body is refused at the limit, before parsing', async () => {
    const svc = await startTestService(testConfig({ log: { level: 'fatal' } }));
    const huge = Buffer.alloc(10 * 1024 * 1024, 'a');
    expect(await rawPost(svc.webhook, huge, [['content-type', 'application/json'], ['x-notion-signature', sign(SECRET, huge)]])).toBe(413);
    expect(await svc.store.countEvents()).toBe(0);
  });
});
