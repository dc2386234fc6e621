import { describe, expect, it } from 'vitest';
import { receive } from '../../../src/receiver/receive.js';
import { sign } from '../../../src/receiver/sign.js';
import { notionFixture } from '../../support/fixtures.js';

const CURRENT = 'secret_current_0123456789abcdef';
const OLD = 'secret_old_0123456789abcdef';
const event = Buffer.from(JSON.stringify(notionFixture('page.created.json')));
const handshake = Buffer.from(JSON.stringify({ verification_token: 'secret_from_notion' }));
const notUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
const configured = { secrets: [CURRENT], allowUnsigned: false };
const handshakeOnly = { secrets: [], allowUnsigned: false };

describe('receive: what a webhook request is, from its bytes and signature', () => {
  it.each([
    ['a signed event', event, sign(CURRENT, event), configured, { kind: 'event' }],
    ['an unsigned event', event, undefined, configured, { kind: 'rejected', reason: 'invalid_signature', error: { status: 401 } }],
    [
      'an event signed with another secret',
      event,
      sign('secret_someone_else', event),
      configured,
      { kind: 'rejected', reason: 'invalid_signature', error: { status: 401 } },
    ],
    [
      'a signed body that is not UTF-8',
      notUtf8,
      sign(CURRENT, notUtf8),
      configured,
      { kind: 'rejected', reason: 'invalid_event', error: { status: 400, body: { error: 'invalid_event', detail: 'body is not valid UTF-8' } } },
    ],
    ['an unsigned body that is not UTF-8', notUtf8, undefined, configured, { kind: 'rejected', reason: 'invalid_signature', error: { status: 401 } }],
    [
      'signed, not JSON',
      Buffer.from('{"id":'),
      sign(CURRENT, '{"id":'),
      configured,
      { kind: 'rejected', reason: 'invalid_event', error: { status: 400, body: { error: 'invalid_event', detail: expect.stringMatching(/^not JSON: /) } } },
    ],
    [
      'signed, nested 100 deep',
      Buffer.from(`${'['.repeat(100)}${']'.repeat(100)}`),
      sign(CURRENT, `${'['.repeat(100)}${']'.repeat(100)}`),
      configured,
      { kind: 'rejected', reason: 'invalid_event', error: { status: 400 } },
    ],
    [
      'signed, not an event',
      Buffer.from('{"hello":1}'),
      sign(CURRENT, '{"hello":1}'),
      configured,
      { kind: 'rejected', reason: 'invalid_event', error: { status: 400 } },
    ],
    ['the unsigned handshake before a token is configured', handshake, undefined, handshakeOnly, { kind: 'handshake', token: 'secret_from_notion' }],
    [
      'an unsigned handshake once a token is configured',
      handshake,
      undefined,
      configured,
      { kind: 'rejected', reason: 'invalid_signature', error: { status: 401 } },
    ],
    [
      'a signed verification request once a token is configured',
      handshake,
      sign(CURRENT, handshake),
      configured,
      { kind: 'verification_ignored', token: 'secret_from_notion' },
    ],
    ['an event before a token is configured', event, undefined, handshakeOnly, { kind: 'rejected', reason: 'invalid_signature', error: { status: 401 } }],
    ['an unsigned event with security.allowUnsigned', event, undefined, { secrets: [CURRENT], allowUnsigned: true }, { kind: 'event' }],
  ])('%s', (_name, body, signature, opts, expected) => {
    expect(receive(body, signature, opts)).toMatchObject(expected);
  });

  it('accepts events signed with an older token during a rotation, and only the tokens listed', () => {
    const rotating = { secrets: [CURRENT, OLD], allowUnsigned: false };
    expect(receive(event, sign(OLD, event), rotating)).toMatchObject({ kind: 'event' });
    expect(receive(event, sign(CURRENT, event), rotating)).toMatchObject({ kind: 'event' });
    expect(receive(event, sign(OLD, event), configured)).toMatchObject({ kind: 'rejected', error: { status: 401 } });
  });

  it("refuses a signed event posing as a schedule's tick: a webhook cannot start a scheduled rule", () => {
    const tick = Buffer.from(
      JSON.stringify({ id: 'x', type: 'schedule', timestamp: new Date().toISOString(), entity: { id: 'r', type: 'schedule' }, data: { rule: 'r' } }),
    );
    expect(receive(tick, sign(CURRENT, tick), configured)).toMatchObject({ kind: 'rejected', reason: 'invalid_event', error: { status: 400 } });
  });
});
