import { describe, expect, it } from 'vitest';
import { InvalidEvent, normalize, verificationToken } from '../../../src/model/normalize.js';
import { notionFixture } from '../../support/fixtures.js';

describe('normalize', () => {
  it("maps Notion's real envelope", () => {
    const raw = notionFixture('page.properties_updated.json');
    const ev = normalize(raw);
    expect(ev).toMatchObject({
      id: '5f2c8b21-1d2e-4f30-b4c5-d6e7f8091a22',
      type: 'page.properties_updated',
      timestamp: '2026-11-20T14:03:27.512Z',
      entity: { id: '1f8e2d3c-4b5a-4697-8877-665544332211', type: 'page' },
      workspace_id: '7a3e1c52-4f0b-4d8e-9b6a-1f2c3d4e5f60',
      attempt_number: 1,
      authors: [{ id: 'c0ffee00-1111-4222-8333-444455556666', type: 'person' }],
    });
    expect(ev.data.updated_properties).toEqual(['%3AUPp', 'title']);
    expect(ev.raw).toBe(raw);
  });

  it('takes a timestamp more than 5 minutes ahead of arrival as the arrival time; small skew stays', () => {
    const arrived = new Date('2026-11-30T10:00:00.000Z');
    const body = (timestamp: string) => ({ ...notionFixture<Record<string, unknown>>('page.created.json'), timestamp });
    expect(normalize(body('2999-01-01T00:00:00.000Z'), arrived).timestamp).toBe('2026-11-30T10:00:00.000Z');
    expect(normalize(body('2026-11-30T10:06:00.000Z'), arrived).timestamp).toBe('2026-11-30T10:00:00.000Z');
    expect(normalize(body('2026-11-30T10:04:00.000Z'), arrived).timestamp).toBe('2026-11-30T10:04:00.000Z');
    expect(normalize(body('2026-11-30T09:00:00.000Z'), arrived).timestamp).toBe('2026-11-30T09:00:00.000Z');
  });

  it('keeps the attempt number of a retried delivery', () => {
    expect(normalize(notionFixture('page.moved.retry.json')).attempt_number).toBe(3);
  });

  it("maps the seed document's envelope, with the full page as data", () => {
    const page = notionFixture('page.json');
    const ev = normalize({ object: 'event', id: 'seed-1', created_time: '2026-11-20T14:00:00Z', event_type: 'page.updated', data: page });
    expect(ev).toMatchObject({
      id: 'seed-1',
      type: 'page.updated',
      timestamp: '2026-11-20T14:00:00.000Z',
      entity: { id: page.id, type: 'page' },
      authors: [],
      attempt_number: 1,
    });
    expect(ev.data).toBe(page);
  });

  it.each([
    ['an array', [], 'body must be a JSON object'],
    ['a string', 'hello', 'body must be a JSON object'],
    ['null', null, 'body must be a JSON object'],
    ['no id', { type: 'page.created' }, '"id" must be a non-empty string'],
    ['a numeric id', { id: 7, type: 'page.created' }, '"id" must be a non-empty string'],
    ['no type', { id: 'x' }, '"type" must be a non-empty string'],
    ['a seed event without event_type', { object: 'event', id: 'x' }, '"event_type" must be a non-empty string'],
    ['a bad timestamp', { id: 'x', type: 't.a', timestamp: 'yesterday' }, '"timestamp" is not a date'],
    ['data that is a list', { id: 'x', type: 't.a', data: [1] }, '"data" must be an object'],
    ['entity that is a string', { id: 'x', type: 't.a', entity: 'page' }, '"entity" must be an object'],
    ['authors that is an object', { id: 'x', type: 't.a', authors: {} }, '"authors" must be an array'],
    ['a fractional attempt', { id: 'x', type: 't.a', attempt_number: 1.5 }, '"attempt_number" must be a non-negative integer'],
    ['a huge id', { id: 'x'.repeat(1000), type: 't.a' }, '"id" is longer than 200 characters'],
  ])('rejects %s with a specific detail', (_n, body, detail) => {
    expect(() => normalize(body)).toThrow(new InvalidEvent(detail));
  });

  it('recognises the verification handshake only when it is the only key', () => {
    expect(verificationToken(notionFixture('verification.json'))).toMatch(/^secret_/);
    expect(verificationToken({ verification_token: 'a', id: 'x' })).toBeUndefined();
    expect(verificationToken({ verification_token: 5 })).toBeUndefined();
  });
});
