import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SIGNATURE_PREFIX } from './sign.js';

const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

/**
 * True when `header` is `sha256=<hex>` and the hex is the HMAC-SHA256 of the raw body bytes.
 * Any other form (missing, repeated, short, long, not hex) is simply false. The digests are
 * compared with `timingSafeEqual`, so the time taken does not depend on how much matched.
 */
export function verifySignature(secret: string, rawBody: Uint8Array, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith(SIGNATURE_PREFIX)) return false;
  const hex = header.slice(SIGNATURE_PREFIX.length);
  if (!HEX_DIGEST.test(hex)) return false;
  const expected = createHmac('sha256', keyOf(secret)).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** The secret imported once (a string key is imported again by every createHmac). */
let cached: { secret: string; key: KeyObject } | undefined;
function keyOf(secret: string): KeyObject {
  if (cached?.secret !== secret) cached = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  return cached.key;
}
