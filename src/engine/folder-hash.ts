import type { createHash } from 'node:crypto';
import { relative } from 'node:path';

/*
 * A rules folder's version is a hash of its files' paths and contents, in folder order: the same
 * folder gives the same version on every replica.
 */

export function hashFile(hash: ReturnType<typeof createHash>, dir: string, file: string, text: string): void {
  hash.update(relative(dir, file)).update('\0').update(text).update('\0');
}

/** A file over the size limit counts by its size: it is never read. */
export function hashOversized(hash: ReturnType<typeof createHash>, dir: string, file: string, size: number): void {
  hash.update(relative(dir, file)).update(`\0size:${size}\0`);
}
