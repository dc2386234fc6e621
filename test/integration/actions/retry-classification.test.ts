import { Client } from '@notionhq/client';
import { describe, expect, it } from 'vitest';
import { ActionError, parseRetryAfter } from '../../../src/actions/errors.js';
import { classifyNotionError } from '../../../src/actions/notion-client.js';
import { slackAction } from '../../../src/actions/slack.js';
import { backoffDelay } from '../../../src/delivery/backoff.js';
import { createLogger } from '../../../src/server/logger.js';
import { FakeNotion } from '../../fakes/notion.js';
import { FakeSlack } from '../../fakes/slack.js';
import type { Fault } from '../../fakes/http-fake.js';
import { useFakes } from '../../support/fakes.js';
import { testConfig } from '../../support/server.js';

const PAGE = '1f8e2d3c-4b5a-4697-8877-665544332211';
const fakes = useFakes(PAGE);
const log = createLogger('silent');

/** What the real Notion client's failure becomes, after one answer `fault`. */
async function notionFailure(fault: Fault): Promise<ActionError> {
  fakes.notion.http.failNext(1, fault);
  const client = new Client({ auth: fakes.notion.token, baseUrl: fakes.notion.url, retry: false, timeoutMs: 2000 });
  try {
    await client.pages.retrieve({ page_id: PAGE });
  } catch (err) {
    return classifyNotionError(err, 'GET page');
  }
  throw new Error('the call succeeded');
}

/** What the slack action's failure is, after one answer `fault`. */
async function slackFailure(fault: Fault): Promise<ActionError> {
  fakes.slack.http.failNext(1, fault);
  const send = slackAction(testConfig({ slack: { token: fakes.slack.token, apiUrl: fakes.slack.url, timeoutMs: 2000 } }), log);
  try {
    await send({ channel: '#ship', text: 'hi' }, { eventId: 'e', ruleId: 'r', actionIndex: 0, retry: false, since: 0, log, store: undefined as never });
  } catch (err) {
    return err as ActionError;
  }
  throw new Error('the call succeeded');
}

const notionError = (status: number, code: string, headers: Record<string, string> = {}): Fault => ({
  kind: 'status',
  status,
  headers,
  body: { object: 'error', status, code, message: code },
});

describe('what a failure is: flow control, worth retrying, or final (the real clients against the fakes)', () => {
  it.each([
    ['429 rate_limited with Retry-After: 30', FakeNotion.rateLimited(30), { flowControl: true, retriable: true, retryAfterMs: 30_000 }],
    ['529 service_overload', notionError(529, 'service_overload'), { flowControl: true, retriable: true }],
    ['500 internal_server_error', FakeNotion.serverError(), { flowControl: false, retriable: true }],
    ['503 service_unavailable', notionError(503, 'service_unavailable'), { flowControl: false, retriable: true }],
    ['409 conflict_error', notionError(409, 'conflict_error'), { flowControl: false, retriable: true }],
    ['404 object_not_found', notionError(404, 'object_not_found'), { flowControl: false, retriable: false }],
    ['400 validation_error', notionError(400, 'validation_error'), { flowControl: false, retriable: false }],
    ['401 unauthorized', notionError(401, 'unauthorized'), { flowControl: false, retriable: false }],
  ])('Notion %s', async (_name, fault, expected) => {
    expect(await notionFailure(fault)).toMatchObject(expected);
  });

  it('Notion not answering in time is a retriable timeout', async () => {
    expect(await notionFailure({ kind: 'hang' })).toMatchObject({ retriable: true, flowControl: false, message: expect.stringMatching(/timed out/) });
  });

  it.each([
    ['429 with Retry-After: 7', FakeSlack.rateLimited(7), { flowControl: true, retriable: true, retryAfterMs: 7000 }],
    ['HTTP 500', FakeSlack.serverError(500), { flowControl: false, retriable: true, code: 'http_500' }],
    ['HTTP 503', FakeSlack.serverError(503), { flowControl: false, retriable: true }],
    ['ok:false internal_error', FakeSlack.platformError('internal_error'), { retriable: true, code: 'internal_error' }],
    ['ok:false channel_not_found', FakeSlack.platformError('channel_not_found'), { retriable: false, code: 'channel_not_found' }],
    ['ok:false invalid_auth', FakeSlack.platformError('invalid_auth'), { retriable: false, code: 'invalid_auth' }],
  ])('Slack %s', async (_name, fault, expected) => {
    expect(await slackFailure(fault)).toMatchObject(expected);
  });

  it('Slack unreachable is a retriable network error', async () => {
    await fakes.slack.stop();
    const err = await slackFailure({ kind: 'hang' });
    expect(err).toMatchObject({ retriable: true, flowControl: false, message: expect.stringMatching(/^slack: (network error|timed out)/) });
    await fakes.slack.start(); // stopped again after the test
  });
});

describe('Retry-After and back-off', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('Mon, 30 Nov 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 09:00:00 GMT', now)).toBe(0); // in the past: at once
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter up to maxMs, never sooner than Retry-After', () => {
    const policy = { baseMs: 1000, maxMs: 60_000 };
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 7, 8, 20].map((n) => backoffDelay(n, policy, undefined, top))).toEqual([999, 1999, 3999, 7999, 59_999, 59_999, 59_999]);
    expect(backoffDelay(5, policy, undefined, () => 0)).toBe(0);
    expect(backoffDelay(1, policy, 30_000, top)).toBe(30_000);
    expect(backoffDelay(8, policy, 1000, top)).toBe(59_999);
  });
});
