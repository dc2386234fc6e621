import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdFilters } from '../../../src/store/sqlite/id-filters.js';

const sizes = { perGeneration: 1_000, generationsPerFilter: 10 };

describe('the id filters', () => {
  it('never say "not here" for a stored id, and rarely "maybe" for a new one', () => {
    const filters = new IdFilters(sizes);
    const stored = Array.from({ length: 30_000 }, () => randomUUID());
    stored.forEach((id, i) => filters.add(Math.floor(i / sizes.perGeneration), IdFilters.key(id)));
    for (const [i, id] of stored.entries()) expect(filters.candidates(IdFilters.key(id), 29)).toContain(Math.floor(i / sizes.perGeneration));
    // Three full filters, 16 bits per id: about 0.2 % each answers a wrong "maybe".
    const wrong = Array.from({ length: 20_000 }, () => randomUUID()).filter((id) => filters.candidates(IdFilters.key(id), 29).length > 0).length;
    expect(wrong).toBeLessThan(20_000 * 0.02);
  });

  it('gives the generations of a "maybe" newest first, none past the newest holding ids, and forgets groups retention emptied', () => {
    const filters = new IdFilters(sizes);
    const a = IdFilters.key('a');
    filters.add(3, a);
    filters.add(25, a);
    expect(filters.candidates(a, 26)).toEqual([26, 25, 24, 23, 22, 21, 20, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    filters.dropBefore(20);
    expect(filters.candidates(a, 26)).toEqual([26, 25, 24, 23, 22, 21, 20]);
  });

  it('takes back a saved filter, but not one saved for other sizes', () => {
    const filters = new IdFilters(sizes);
    filters.add(12, IdFilters.key('kept'));
    const bits = filters.saved(1)!;
    const again = new IdFilters(sizes);
    expect(again.load(1, filters.layout, bits)).toBe(true);
    expect(again.candidates(IdFilters.key('kept'), 19)).toContain(12);
    const other = new IdFilters({ perGeneration: 1_000, generationsPerFilter: 16 });
    expect(other.load(1, filters.layout, bits)).toBe(false);
    expect(other.load(1, other.layout, bits)).toBe(false);
  });
});
