import fc from 'fast-check';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadRules } from '../../../src/engine/load.js';
import { evaluateEvent } from '../../../src/engine/evaluate.js';
import { normalize } from '../../../src/model/normalize.js';
import { sign } from '../../../src/receiver/sign.js';
import { eventFrom, notionFixture } from '../../support/fixtures.js';
import { rulesDir, ruleSetOf } from '../../support/rules.js';
import { SECRET, startTestService, testConfig } from '../../support/server.js';
import { scale } from '../../support/soak.js';
import { tempDir } from '../../support/tmp.js';

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
  fc
    .record({
      id: fc.anything(),
      type: fc.anything(),
      timestamp: fc.anything(),
      entity: fc.anything(),
      data: fc.anything(),
      authors: fc.anything(),
      attempt_number: fc.anything(),
    })
    .map((o) => JSON.stringify(o)),
);
const bytes = fc.oneof(
  jsonish.map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)), // invalid UTF-8 and everything else
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/jsonx',
  '',
  'APPLICATION/JSON',
);
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
        const status = await rawPost(svc.webhook, body, [
          ['content-type', 'application/json'],
          ['x-notion-signature', sign(SECRET, body)],
        ]);
        expect([200, 400, 413]).toContain(status);
        if (status === 200) accepted++;
      }),
      { numRuns: RUNS },
    );
    // Wrong types in every envelope field of a real event.
    const fields = ['id', 'type', 'timestamp', 'entity', 'data', 'authors', 'attempt_number', 'workspace_id'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fields),
        fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer()), fc.string(), fc.object()),
        async (field, value) => {
          const ev = { ...eventFrom('page.created.json'), [field]: value };
          const text = JSON.stringify(ev);
          const status = await rawPost(svc.webhook, Buffer.from(text), [
            ['content-type', 'application/json'],
            ['x-notion-signature', sign(SECRET, text)],
          ]);
          expect([200, 400]).toContain(status);
          if (status === 200) accepted++;
        },
      ),
      { numRuns: RUNS / 2 },
    );
    expect(await svc.store.countEvents()).toBeLessThanOrEqual(accepted);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
  });

  it('headers past the 16 KB limit are refused by the HTTP layer, and the server carries on', async () => {
    const svc = await startTestService(testConfig({ log: { level: 'fatal' } }));
    const status = await rawPost(svc.webhook, Buffer.from('{}'), [
      ['content-type', 'application/json'],
      ['x-notion-signature', 'a'.repeat(10_240)],
      ['x-notion-signature', 'b'.repeat(10_240)],
    ]).catch(
      (err: NodeJS.ErrnoException) => err.code, // Node answers 431 and may close before the body is sent
    );
    expect([431, 'ECONNRESET', 'EPIPE']).toContain(status);
    expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    expect(await svc.store.countEvents()).toBe(0);
  });

  it('a 10 MB body is refused at the limit, before parsing', async () => {
    const svc = await startTestService(testConfig({ log: { level: 'fatal' } }));
    const huge = Buffer.alloc(10 * 1024 * 1024, 'a');
    expect(
      await rawPost(svc.webhook, huge, [
        ['content-type', 'application/json'],
        ['x-notion-signature', sign(SECRET, huge)],
      ]),
    ).toBe(413);
    expect(await svc.store.countEvents()).toBe(0);
  });
});

// Inputs an attacker would try (issue 15): each must be refused cleanly or handled within bounds.
const ATTACK_TITLES = [
  `${'a'.repeat(40)}!`, // catastrophic backtracking for /^(a+)+$/
  '<!channel> <@U0123> <https://evil.example|Open in Notion>',
  '../admin/danger?token=x&admin=1#f',
  'x\r\nX-Injected: 1',
  '\u001b]0;pwned\u0007\u001b[2J\u009b31m',
  '__proto__',
  'constructor',
  '..',
];
const hostileRules = {
  'regex.yaml':
    'id: regex\non: page.*\nwhen: $contains(page.title, /^(a+)+$/) or $match(page.title, /(x+x+)+y/)\nactions:\n  - log: { message: "{{ page.title }}" }\n',
  'pad.yaml': 'id: pad\non: page.*\nwhen: $length($pad("", $length(page.title) * 1000000)) > 0\nactions:\n  - log: { message: never }\n',
  'proto.yaml': 'id: proto\non: page.*\nwhen: $exists(event.data.constructor) or $exists(page.__proto__)\nactions:\n  - log: { message: inherited }\n',
  'slack.yaml':
    'id: slack\non: page.*\nactions:\n  - slack: { channel: "#x", text: "{{ page.title }}" }\n  - http: { url: "https://hooks.example.com/p/{{ page.title }}?t={{ page.title }}", headers: { X-Title: "{{ page.title }}" } }\n  - log: { message: "{{ page.title }}", fields: { eventId: "{{ page.title }}", level: "{{ page.title }}" } }\n',
};

function seedEvent(title: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const page = notionFixture<Record<string, unknown>>('page.json');
  const properties = { Name: { id: 'title', type: 'title', title: [{ type: 'text', plain_text: title, text: { content: title } }] } };
  return {
    object: 'event',
    id: `fz-${Math.random().toString(36).slice(2)}`,
    created_time: new Date().toISOString(),
    event_type: 'page.created',
    data: { ...page, properties },
    ...extra,
  };
}

describe('fuzzed attack inputs (hostile rules, events and rule files)', () => {
  it(
    'hostile titles and envelopes against hostile rules: every rule ends in an outcome, none steers an action',
    { timeout: scale(60_000, 1_800_000) },
    async () => {
      const ruleSet = ruleSetOf(hostileRules);
      const title = fc.oneof(
        fc.constantFrom(...ATTACK_TITLES),
        fc.string({ maxLength: 60 }),
        fc.constantFrom(...ATTACK_TITLES).chain((t) => fc.string({ maxLength: 20 }).map((x) => t + x)),
      );
      await fc.assert(
        fc.asyncProperty(title, fc.constantFrom('2999-01-01T00:00:00Z', new Date().toISOString(), '1970-01-01T00:00:00Z'), async (t, created) => {
          const event = normalize(seedEvent(t, { created_time: created }));
          const outcomes = await evaluateEvent(ruleSet, event);
          expect(outcomes.map((o) => o.rule)).toEqual(['pad', 'proto', 'regex', 'slack']);
          expect(Date.parse(event.timestamp)).toBeLessThanOrEqual(Date.now() + 5 * 60_000);
          expect(outcomes[1]).toMatchObject({ matched: false });
          const slack = outcomes[3]!;
          if (slack.matched) {
            const [msg, http] = slack.actions;
            expect(String(msg!.params.text)).not.toMatch(/<[!@#]|<https?:/);
            const url = new URL(String(http!.params.url));
            expect(url.origin).toBe('https://hooks.example.com');
            expect(url.pathname.split('/').length).toBe(3);
            expect([...url.searchParams.keys()]).toEqual(['t']);
          } else {
            expect(slack).toMatchObject({ reason: 'render_error' }); // a line break for the header, or a dot segment
          }
        }),
        { numRuns: scale(150, 5000) },
      );
    },
  );

  it(
    'hostile signed bodies reach the server: refused with 400 or stored and matched; the server stays healthy',
    { timeout: scale(60_000, 1_800_000) },
    async () => {
      const dir = tempDir();
      const svc = await startTestService(testConfig({ rules: { dir: rulesDir(hostileRules, join(dir, 'rules')) }, log: { level: 'fatal' } }, dir));
      const body = fc.oneof(
        fc.constantFrom(...ATTACK_TITLES).map((t) => JSON.stringify(seedEvent(t))),
        fc.integer({ min: 60, max: 5000 }).map((n) => JSON.stringify(seedEvent('x')).replace('"data":', `"deep":${'['.repeat(n)}${']'.repeat(n)},"data":`)),
        fc.constantFrom(
          '{"__proto__":{"polluted":1},"id":"p1","type":"page.created"}',
          '{"constructor":{"prototype":{"x":1}},"id":"p2","type":"page.created"}',
          '{"verification_token":"secret_forged"}',
        ),
      );
      let stored = 0;
      await fc.assert(
        fc.asyncProperty(body, async (text) => {
          const status = await rawPost(svc.webhook, Buffer.from(text), [
            ['content-type', 'application/json'],
            ['x-notion-signature', sign(SECRET, text)],
          ]);
          expect([200, 400]).toContain(status);
          if (status === 200 && !text.includes('verification_token')) stored++;
        }),
        { numRuns: scale(100, 5000) },
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await svc.store.getMeta('verification_token')).toBeFalsy();
      await expect.poll(async () => (await svc.store.counts()).eventsToDispatch, { timeout: 30_000 }).toBe(0);
      expect(await svc.store.countEvents()).toBeLessThanOrEqual(stored);
      expect((await fetch(`${svc.url}/health`)).status).toBe(200);
    },
  );

  it('arbitrary and hostile rule files are problems with a file, never an exception', { timeout: scale(60_000, 1_800_000) }, async () => {
    const attacks = fc.constantFrom(
      `a: &a [1]\nb: [${Array.from({ length: 200 }, () => '*a').join(',')}]\n`,
      'x: !!js/function "function(){}"\n',
      'id: x\non: page.created\nactions: *undefined\n',
      `${'- '.repeat(2000)}x\n`,
      `${'['.repeat(3000)}${']'.repeat(3000)}\n`,
      'id: n\non: page.created\nwhen: "$contains(x, /(a)\\\\1/)"\nactions:\n  - log: { message: x }\n',
      '---\n---\n--- !!binary xyz\n',
      'id: big\non: page.created\nwhen: 1e999999 > 0\nactions:\n  - log: { message: x }\n',
    );
    const text = fc.oneof(
      attacks,
      fc.string({ maxLength: 500 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.property(text, (t) => {
        const dir = rulesDir({ 'r.yaml': t });
        const result = loadRules(dir, { evalTimeoutMs: 100 });
        for (const p of result.problems) expect(p.file).toContain(dir);
        expect(result.problems.some((p) => /internal error/.test(p.message))).toBe(false);
      }),
      { numRuns: scale(200, 5000) },
    );
  });
});
