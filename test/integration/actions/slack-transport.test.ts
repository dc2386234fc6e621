import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifySlackError } from '../../../src/actions/slack.js';
import { slackTransport } from '../../../src/actions/slack-transport.js';
import { FakeSlack } from '../../fakes/slack.js';
import type { Fault } from '../../fakes/http-fake.js';

// The Slack action's transport (its own keep-alive request under @slack/web-api) must leave the
// client's behaviour as it is with axios's own HTTP adapter: the same request reaches Slack, and
// every answer — success, 429, 5xx, ok:false, no answer, no server — comes back the same.

const slack = new FakeSlack();
beforeAll(() => slack.start());
afterAll(() => slack.stop());

function client(ours: boolean, timeout = 2000): WebClient {
  return new WebClient(slack.token, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout,
    logLevel: LogLevel.ERROR,
    ...(ours ? { adapter: slackTransport() } : {}),
  });
}

/** What one call ends as: the answer's fields, or the classified error as delivery sees it. */
async function outcome(ours: boolean, fault: Fault | undefined, timeout?: number): Promise<unknown> {
  if (fault) slack.http.failNext(1, fault);
  try {
    const res = await client(ours, timeout).chat.postMessage({ channel: '#ship', text: 'hi', blocks: [{ type: 'divider' }] });
    return { ok: res.ok, channel: res.channel, hasTs: typeof res.ts === 'string' };
  } catch (err) {
    const e = classifySlackError(err);
    return { message: e.message, code: e.code, retriable: e.retriable, flowControl: e.flowControl, retryAfterMs: e.retryAfterMs };
  }
}

describe('the Slack transport answers as axios does', () => {
  it.each<[string, Fault | undefined]>([
    ['a message sent', undefined],
    ['429 with Retry-After: 7', FakeSlack.rateLimited(7)],
    ['429 without Retry-After', { kind: 'status', status: 429, body: { ok: false, error: 'ratelimited' } }],
    ['HTTP 500', FakeSlack.serverError(500)],
    ['HTTP 503', FakeSlack.serverError(503)],
    ['ok:false channel_not_found', FakeSlack.platformError('channel_not_found')],
    ['ok:false internal_error', FakeSlack.platformError('internal_error')],
    ['a body that is not JSON', { kind: 'status', status: 502, body: '<html>bad gateway</html>' }],
  ])('%s', async (_name, fault) => {
    const theirs = await outcome(false, fault);
    expect(await outcome(true, fault)).toEqual(theirs);
  });

  it('no answer within the timeout: the same timed-out error', async () => {
    const theirs = await outcome(false, { kind: 'hang' }, 300);
    const ours = await outcome(true, { kind: 'hang' }, 300);
    expect(ours).toEqual(theirs);
    expect(ours).toMatchObject({ retriable: true, message: expect.stringContaining('timeout of 300ms exceeded') });
  });

  it('the connection drops halfway through the answer: a network error, not a hang', async () => {
    const theirs = await outcome(false, { kind: 'cut' });
    const ours = await outcome(true, { kind: 'cut' });
    expect(ours).toMatchObject({ retriable: true });
    expect(ours).toEqual(theirs);
  });

  it('the same request reaches Slack: method, path, headers and form body', async () => {
    const sent = async (ours: boolean) => {
      const before = slack.http.requests.length;
      await client(ours).chat.postMessage({ channel: '#ship', text: 'héllo & more', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*x*' } }] });
      const req = slack.http.requests[before]!;
      const { authorization, 'content-type': type, 'user-agent': agent, 'content-length': length } = req.headers;
      return { method: req.method, path: req.path, body: req.body, authorization, type, agent, length };
    };
    expect(await sent(true)).toEqual(await sent(false));
  });

  it('no server at the address: the same network error', async () => {
    const stopped = new FakeSlack();
    const url = await stopped.start();
    await stopped.stop();
    const call = async (ours: boolean) => {
      try {
        await new WebClient('t', {
          slackApiUrl: url,
          retryConfig: { retries: 0 },
          logLevel: LogLevel.ERROR,
          ...(ours ? { adapter: slackTransport() } : {}),
        }).chat.postMessage({ channel: 'C', text: 'x' });
        return 'sent';
      } catch (err) {
        const e = classifySlackError(err);
        return { message: e.message, code: e.code, retriable: e.retriable };
      }
    };
    const ours = await call(true);
    expect(ours).toEqual(await call(false));
    expect(ours).toMatchObject({ retriable: true, code: 'ECONNREFUSED' });
  });
});
