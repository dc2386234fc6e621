import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpFake } from '../../fakes/http-fake.js';
import { startServer } from '../../support/child.js';
import { useChildService } from '../../support/child-service.js';
import { eventFrom } from '../../support/fixtures.js';
import { postEvent } from '../../support/http.js';
import { SECRET } from '../../support/server.js';

const { fakes, setup } = useChildService();

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status?: { code?: number };
}

/** A stand-in for an OpenTelemetry collector: OTLP/HTTP JSON on /v1/traces, answered as a collector does. */
let collector: HttpFake;
let collectorUrl: string;
beforeEach(async () => {
  collector = new HttpFake(() => ({ status: 200, body: { partialSuccess: {} } }));
  collectorUrl = await collector.start();
});
afterEach(() => collector.stop());

const spans = (): OtlpSpan[] =>
  collector.requests
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) => (r.body as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }).resourceSpans)
    .flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
const attr = (s: OtlpSpan, key: string) => Object.values(s.attributes.find((a) => a.key === key)?.value ?? {})[0];

describe('OpenTelemetry traces', () => {
  it('with OTEL_EXPORTER_OTLP_ENDPOINT set, each event is one trace: webhook → match → each action attempt', async () => {
    const { config, env } = setup({
      'a.yaml': 'id: ship\non: page.created\nactions:\n  - log: { message: shipped }\n  - slack: { channel: "#ship", text: "{{ event.id }}" }\n',
    });
    fakes.slack.http.failNext(1, { kind: 'status', status: 500, body: { ok: false, error: 'internal_error' } });
    const server = await startServer(config, { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl, OTEL_SERVICE_NAME: 'rules-under-test' });
    const ev = eventFrom('page.created.json');
    expect((await postEvent(`${server.url}/webhook`, ev, SECRET)).status).toBe(200);
    await fakes.slack.untilMessages(1);
    expect(await server.kill()).toMatchObject({ code: 0 }); // shutdown sends what is batched

    const all = spans();
    const webhook = all.find((s) => s.name === 'webhook')!;
    const match = all.find((s) => s.name === 'match')!;
    const actions = all.filter((s) => s.name.startsWith('action '));
    expect(webhook).toBeDefined();
    expect(attr(webhook, 'notion.event.id')).toBe(ev.id);
    expect(webhook.parentSpanId ?? '').toBe('');
    expect(match.traceId).toBe(webhook.traceId);
    expect(match.parentSpanId).toBe(webhook.spanId);
    expect(attr(match, 'notion_rules.rules.matched')).toEqual({ values: [{ stringValue: 'ship' }] });
    // log ok, slack failed once (a 500: retried), then ok: three attempts, each under the match.
    expect(actions.map((s) => [s.name, attr(s, 'notion_rules.action.outcome')])).toEqual([
      ['action log', 'ok'],
      ['action slack', 'retry'],
      ['action slack', 'ok'],
    ]);
    for (const s of actions) expect([s.traceId, s.parentSpanId]).toEqual([webhook.traceId, match.spanId]);
    expect(actions[1]!.status?.code).toBe(2); // ERROR
    const resource = (collector.requests[0]!.body as { resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] } }> }).resourceSpans[0]!.resource;
    expect(resource.attributes.find((a) => a.key === 'service.name')?.value).toEqual({ stringValue: 'rules-under-test' });
  });

  it('without OTEL_* variables nothing is exported and the SDK is not loaded', async () => {
    const { config, env } = setup({ 'a.yaml': 'id: ship\non: page.created\nactions:\n  - log: { message: shipped }\n' });
    const server = await startServer(config, env);
    await postEvent(`${server.url}/webhook`, eventFrom('page.created.json'), SECRET);
    await server.waitForLog((l) => l.msg === 'shipped');
    expect(server.logs.some((l) => l.msg === 'OpenTelemetry traces on')).toBe(false);
    expect(await server.kill()).toMatchObject({ code: 0 });
    expect(collector.requests).toHaveLength(0);
  });
});
