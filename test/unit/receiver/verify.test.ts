import { signWebhookPayload, verifyWebhookSignature } from '@notionhq/client';
import { describe, expect, it } from 'vitest';
import { sign } from '../../../src/receiver/sign.js';
import { verifySignature } from '../../../src/receiver/verify.js';

const secret = 'secret_tNr4kVx0pQ7mB2cL9sW1yZ8eH3jF6gD5aU0iO4nR7tY';
const body = Buffer.from('{"id":"e1","type":"page.created","data":{"title":"Café ✅"}}');

describe('verifySignature', () => {
  it('accepts the signature Notion computes over the raw bytes', async () => {
    const header = sign(secret, body);
    expect(verifySignature(secret, body, header)).toBe(true);
    // Same value as Notion's own SDK computes, and the SDK accepts ours.
    expect(await signWebhookPayload({ body: body.toString(), verificationToken: secret })).toBe(header);
    expect(await verifyWebhookSignature({ body: body.toString(), signature: header, verificationToken: secret })).toBe(true);
  });

  it('accepts upper-case hex', () => {
    const header = sign(secret, body);
    expect(verifySignature(secret, body, `sha256=${header.slice(7).toUpperCase()}`)).toBe(true);
  });

  it.each([
    ['a different secret', sign('another-secret', body)],
    ['a truncated signature', sign(secret, body).slice(0, 40)],
    ['a signature one hex digit short', sign(secret, body).slice(0, -1)],
    ['a signature too long', `${sign(secret, body)}00`],
    ['non-hex digits', `sha256=${'z'.repeat(64)}`],
    ['no sha256= prefix', sign(secret, body).slice(7)],
    ['another algorithm prefix', `sha1=${sign(secret, body).slice(7)}`],
    ['an empty header', ''],
    ['a missing header', undefined],
    ['a repeated header', [sign(secret, body), sign(secret, body)]],
    ['non-ASCII', `sha256=${'é'.repeat(64)}`],
    ['a 10 KB value', `sha256=${'a'.repeat(10_240)}`],
  ])('rejects %s without throwing', (_name, header) => {
    expect(verifySignature(secret, body, header as string | string[] | undefined)).toBe(false);
  });

  it('rejects a body changed after signing, even by one byte or whitespace', () => {
    const header = sign(secret, body);
    expect(verifySignature(secret, Buffer.from(body.toString().replace('e1', 'e2')), header)).toBe(false);
    expect(verifySignature(secret, Buffer.concat([body, Buffer.from('\n')]), header)).toBe(false);
  });
});
