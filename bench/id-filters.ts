/**
 * `node dist-bench/bench/id-filters.js`: what the dedupe check of the id-generations design
 * (docs/performance.md, "The way out") would cost per new event. Blocked Bloom filters, each for
 * 1,000,000 ids at 10 bits per id (7 bits inside one 512-bit block), filled with random UUIDs as
 * Notion's; then 200,000 ids never seen are checked against all of them, as every new event
 * would be. Prints the time per new id and how often a filter wrongly answers "maybe".
 * A design measurement, not a product path: nothing in src/ uses it.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';

const IDS_PER_FILTER = 1_000_000;
const BLOCK_BITS = 512;
const BITS_PER_ID = 10;
const K = 7;

/** FNV-1a over the id's characters, seeded: two of them give the block and the bits. */
function hash(id: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

class BlockedBloom {
  private readonly blocks = Math.ceil((IDS_PER_FILTER * BITS_PER_ID) / BLOCK_BITS);
  private readonly bits = new Uint32Array(this.blocks * (BLOCK_BITS / 32));

  add(h1: number, h2: number): void {
    const base = (h1 % this.blocks) * (BLOCK_BITS / 32);
    for (let i = 0; i < K; i++) {
      const bit = (h2 + i * ((h1 >>> 9) | 1)) & (BLOCK_BITS - 1);
      this.bits[base + (bit >>> 5)]! |= 1 << (bit & 31);
    }
  }

  has(h1: number, h2: number): boolean {
    const base = (h1 % this.blocks) * (BLOCK_BITS / 32);
    for (let i = 0; i < K; i++) {
      const bit = (h2 + i * ((h1 >>> 9) | 1)) & (BLOCK_BITS - 1);
      if (!(this.bits[base + (bit >>> 5)]! & (1 << (bit & 31)))) return false;
    }
    return true;
  }
}

const SEED_1 = 2166136261;
const SEED_2 = 0x9747b28c;
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}`);
for (const count of [10, 30]) {
  const filters = Array.from({ length: count }, () => new BlockedBloom());
  for (const f of filters)
    for (let i = 0; i < IDS_PER_FILTER; i++) {
      const id = randomUUID();
      f.add(hash(id, SEED_1), hash(id, SEED_2));
    }
  const unseen = Array.from({ length: 200_000 }, () => randomUUID());
  const times: number[] = [];
  let maybe = 0;
  for (let round = 0; round < 3; round++) {
    maybe = 0;
    const began = process.hrtime.bigint();
    for (const id of unseen) {
      const h1 = hash(id, SEED_1);
      const h2 = hash(id, SEED_2);
      for (const f of filters) if (f.has(h1, h2)) maybe++;
    }
    times.push(Number(process.hrtime.bigint() - began) / unseen.length / 1000);
  }
  const mb = (count * IDS_PER_FILTER * BITS_PER_ID) / 8 / 1e6;
  console.log(
    `${count} filters (${count * IDS_PER_FILTER} ids, ${mb.toFixed(1)} MB): ${Math.min(...times).toFixed(2)} µs per new id (best of 3), ` +
      `false "maybe" ${((maybe / unseen.length / count) * 100).toFixed(2)} % per filter, ${(maybe / unseen.length).toFixed(3)} per new id`,
  );
}
