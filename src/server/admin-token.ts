import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A check of a presented admin token against security.adminToken: digests are compared, so the
 * time taken says nothing about the token, whatever the lengths.
 */
export function adminTokenCheck(expected: string): (given: string | undefined) => boolean {
  const want = digest(expected);
  return (given) => Boolean(given) && timingSafeEqual(digest(given!), want);
}

export function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
