/**
 * `npm run bench:id-filters`: what the SQLite store's dedupe check costs per new event before any
 * B-tree probe (src/store/sqlite/id-filters, docs/performance.md "Id generations"). The store's
 * own filters, one per 16 generations of 65,536 ids, filled with random UUIDs as Notion's; then
 * 200,000 ids never seen are hashed and checked against all of them, as every new event is. Prints the time
 * per new id and how often a filter wrongly answers "maybe" (each costs 16 index probes).
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { GENERATIONS, IdFilters } from '../src/store/sqlite/id-filters.js';

const IDS_PER_FILTER = GENERATIONS.perGeneration * GENERATIONS.generationsPerFilter;

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}`);
for (const count of [10, 30]) {
  const filters = new IdFilters();
  for (let i = 0; i < count * IDS_PER_FILTER; i++) filters.add(Math.floor(i / GENERATIONS.perGeneration), IdFilters.key(randomUUID()));
  const unseen = Array.from({ length: 200_000 }, () => randomUUID());
  const times: number[] = [];
  let maybe = 0;
  for (let round = 0; round < 3; round++) {
    maybe = 0;
    const began = process.hrtime.bigint();
    for (const id of unseen) if (filters.candidates(IdFilters.key(id), count * GENERATIONS.generationsPerFilter - 1).length > 0) maybe++;
    times.push(Number(process.hrtime.bigint() - began) / unseen.length / 1000);
  }
  const mb = (count * filters.saved(0)!.byteLength) / 1e6;
  console.log(
    `${count} filters (${count * IDS_PER_FILTER} ids, ${mb.toFixed(1)} MB): ${Math.min(...times).toFixed(2)} µs per new id (best of 3), ` +
      `a new id sent to the index ${((maybe / unseen.length) * 100).toFixed(2)} % of the time (${((maybe / unseen.length / count) * 100).toFixed(2)} % per filter)`,
  );
}
