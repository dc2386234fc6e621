import { setFlagsFromString } from 'node:v8';

/** How the heap's growth was set: by `server.heapGrowthPercent`, by a node flag, or left to V8. */
export type HeapGrowth = { by: 'config'; percent: number } | { by: 'node flag' } | { by: 'v8' };

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * `server.heapGrowthPercent`: after each full collection V8 lets the heap grow this much over the
 * live set before collecting again. Its own factor goes up to 4 when collecting is cheap beside
 * allocating — under load a server whose live set was 50 MB held 150 MB of heap, most of it
 * garbage. V8 reads the factor at every collection, so setting it in the running process takes
 * effect from the next one (Node keeps V8's flags writable for `v8.setFlagsFromString`); a node
 * that ignored it would keep its own growth: more memory, nothing else.
 */
export function limitHeapGrowth(percent: number, execArgv: readonly string[] = process.execArgv, set = setFlagsFromString): HeapGrowth {
  if (execArgv.some((a) => FLAG.test(a))) return { by: 'node flag' };
  if (percent === 0) return { by: 'v8' };
  set(`--heap-growing-percent=${percent}`);
  return { by: 'config', percent };
}
