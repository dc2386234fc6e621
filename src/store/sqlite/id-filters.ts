/*
 * Where an event id may already be stored, without an index over all ids (docs/performance.md,
 * "Id generations"): events are numbered in arrival order into generations, and the unique index
 * is (generation, id). A blocked Bloom filter per group of generations answers "not here" for
 * certain and "maybe" otherwise, so a new id is looked up only in the few generations that may
 * hold it. No false "not here": every stored id is added, so no duplicate gets through.
 */

/** Bits per 512-bit block (one cache line) and bits set per id inside it. */
const BLOCK_BITS = 512;
const WORDS_PER_BLOCK = BLOCK_BITS / 32;
const BITS_PER_ID = 16;
const K = 9;
const SEED_1 = 2166136261;
const SEED_2 = 0x9747b28c;

/** FNV-1a over the id's characters, seeded: two of them choose the block and the bits. */
function hash(id: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** Blocks of a filter for `capacity` ids. */
const blocksFor = (capacity: number) => Math.max(1, Math.ceil((capacity * BITS_PER_ID) / BLOCK_BITS));

class BlockedBloom {
  private readonly blocks: number;
  readonly bits: Uint32Array;

  constructor(capacity: number, saved?: Uint8Array) {
    this.blocks = blocksFor(capacity);
    this.bits = new Uint32Array(this.blocks * WORDS_PER_BLOCK);
    if (saved) new Uint8Array(this.bits.buffer).set(saved);
  }

  /** Sets the id's bits (`set`) or tells whether they are all set. */
  visit(h1: number, h2: number, set: boolean): boolean {
    // The block from h1's high bits, the bits from h2 alone: no hash bit does both jobs.
    const base = Math.floor((h1 / 4294967296) * this.blocks) * WORDS_PER_BLOCK;
    const step = (h2 >>> 9) | 1;
    for (let i = 0; i < K; i++) {
      const bit = (h2 + i * step) & (BLOCK_BITS - 1);
      const word = base + (bit >>> 5);
      const mask = 1 << (bit & 31);
      if (set) this.bits[word]! |= mask;
      else if ((this.bits[word]! & mask) === 0) return false;
    }
    return true;
  }
}

/** An id's two hashes: computed once for the lookup and the add that follows it. */
export interface IdKey {
  readonly h1: number;
  readonly h2: number;
}

/** No generation to search: shared, so a lookup that finds nothing allocates nothing. */
const NONE: readonly number[] = [];

export interface GenerationSizes {
  /** Events per generation. */
  perGeneration: number;
  /** Generations per filter. */
  generationsPerFilter: number;
}

/** 65,536 events to a generation, 16 generations (about a million ids, 2 MB) to a filter. */
export const GENERATIONS: GenerationSizes = { perGeneration: 65_536, generationsPerFilter: 16 };

export class IdFilters {
  private readonly filters = new Map<number, BlockedBloom>();
  private readonly capacity: number;

  constructor(private readonly sizes: GenerationSizes = GENERATIONS) {
    this.capacity = sizes.perGeneration * sizes.generationsPerFilter;
  }

  /** The filter (group of generations) that generation `gen` belongs to. */
  groupOf(gen: number): number {
    return Math.floor(gen / this.sizes.generationsPerFilter);
  }

  /** The first generation of a group. */
  firstGen(group: number): number {
    return group * this.sizes.generationsPerFilter;
  }

  static key(id: string): IdKey {
    return { h1: hash(id, SEED_1), h2: hash(id, SEED_2) };
  }

  /** Records that the id of `key` is stored in generation `gen`. */
  add(gen: number, key: IdKey): void {
    const group = this.groupOf(gen);
    let filter = this.filters.get(group);
    if (!filter) this.filters.set(group, (filter = new BlockedBloom(this.capacity)));
    filter.visit(key.h1, key.h2, true);
  }

  /** Whether a group's filter is here (filled or loaded). */
  has(group: number): boolean {
    return this.filters.has(group);
  }

  /** A group's filter as bytes, to be saved once the group is closed (no id is added to it again). */
  saved(group: number): Buffer | undefined {
    const filter = this.filters.get(group);
    return filter && Buffer.from(filter.bits.buffer, filter.bits.byteOffset, filter.bits.byteLength);
  }

  /**
   * How a saved filter was made (hash, bits, sizes): one saved otherwise is not taken back, since
   * it could say "not here" for an id it holds.
   */
  get layout(): string {
    return `fnv1a-blocked-${BLOCK_BITS}/${BITS_PER_ID}b${K}k/${this.sizes.perGeneration}x${this.sizes.generationsPerFilter}`;
  }

  /** Takes a saved filter back; false (and nothing taken) if it was made otherwise. */
  load(group: number, layout: string, bytes: Uint8Array): boolean {
    if (layout !== this.layout || bytes.byteLength !== blocksFor(this.capacity) * WORDS_PER_BLOCK * 4) return false;
    this.filters.set(group, new BlockedBloom(this.capacity, bytes));
    return true;
  }

  /**
   * The generations up to `newest` (the newest that holds ids) that may hold the id of `key`,
   * newest first: a repeated delivery is most often recent.
   */
  candidates(key: IdKey, newest: number): readonly number[] {
    let gens: number[] | undefined;
    let groups = 0;
    for (const [group, filter] of this.filters) {
      if (!filter.visit(key.h1, key.h2, false)) continue;
      gens ??= [];
      groups++;
      const first = this.firstGen(group);
      for (let g = Math.min(newest, this.firstGen(group + 1) - 1); g >= first; g--) gens.push(g);
    }
    if (!gens) return NONE;
    // Each group's run is newest first; groups are kept in the order they were filled or loaded.
    return groups > 1 ? gens.sort((a, b) => b - a) : gens;
  }

  /** Forgets the filters whose generations all lie before `gen` (retention deleted them). */
  dropBefore(gen: number): void {
    for (const group of this.filters.keys()) {
      if (group < this.groupOf(gen)) this.filters.delete(group);
    }
  }
}
