import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { adminTokenCheck, digest } from '../admin-token.js';

export const SESSION_COOKIE = 'notion_rules_console';
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/** The store's meta key of the session epoch (see ConsoleSessions). */
export const SESSION_EPOCH_KEY = 'console_session_epoch';

/**
 * Console sessions that survive restarts and work across replicas: the cookie is
 * `<expiry>.<HMAC(epoch, expiry)>` keyed by the admin token, where the epoch is one number kept in
 * the store. Logging out moves the epoch on, which ends every session (a stolen cookie too);
 * changing the admin token does the same. Forms carry a CSRF token bound to the session.
 */
export class ConsoleSessions {
  private readonly key: Buffer;
  /** Whether a presented token is the admin token (constant time). */
  readonly checkToken: (given: string | undefined) => boolean;

  constructor(adminToken: string) {
    this.key = createHash('sha256').update('notion-rules console session\0').update(adminToken).digest();
    this.checkToken = adminTokenCheck(adminToken);
  }

  issue(epoch: number, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + SESSION_TTL_SECONDS;
    return `${expires}.${this.mac(`session.${epoch}.${expires}`)}`;
  }

  valid(cookie: string | undefined, epoch: number, now = Date.now()): boolean {
    if (!cookie) return false;
    const [expires, mac] = cookie.split('.');
    if (!expires || !mac || !/^\d+$/.test(expires) || Number(expires) * 1000 <= now) return false;
    return equal(mac, this.mac(`session.${epoch}.${expires}`));
  }

  csrfToken(cookie: string): string {
    return this.mac(`csrf.${cookie}`);
  }

  checkCsrf(cookie: string, given: unknown): boolean {
    return typeof given === 'string' && equal(given, this.csrfToken(cookie));
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }
}

function equal(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
