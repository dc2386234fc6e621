import { createHmac } from 'node:crypto';

export const SIGNATURE_PREFIX = 'sha256=';

/** The `X-Notion-Signature` value Notion sends for `body`: `sha256=<hex HMAC-SHA256>`. */
export function sign(secret: string, body: string | Uint8Array): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}
