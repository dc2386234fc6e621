import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A Notion payload from test/fixtures/notion, parsed. */
export function notionFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(`${fixturesDir}notion/${name}`, 'utf8')) as T;
}

let seq = 0;
/** A real-envelope event from a fixture, with its own id (and optional overrides). */
export function eventFrom(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return { ...notionFixture(name), id: `evt-${process.pid}-${Date.now()}-${seq}`, ...overrides };
}
