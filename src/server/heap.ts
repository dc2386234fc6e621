import { setFlagsFromString } from 'node:v8';

/** How the heap's growth was set: by `server.heapGrowthPercent`, by a node flag, or left to V8. */
export type HeapGrowth = { by: 'config'; percent: number } | { by: 'node flag' } | { by: 'v8' };

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * `server.heapGrowthPercent`: after each full collection V8 lets the heap grow this much over the
 * live set before collecting again. Its own factor reaches 4 under a steady allocation rate — a
 * server whose live set is 50 MB holds 150 MB of heap, most of it garbage. V8 reads the factor at
 * every collection, so setting it once the process runs takes effect from the next one; a node
 * that ignores it keeps its own growth (more memory, nothing else).
 */
export function limitHeapGrowth(percent: number, execArgv: readonly string[] = process.execArgv, set = setFlagsFromString): HeapGrowth {
  if (execArgv.some((a) => FLAG.test(a))) return { by: 'node flag' };
  if (percent === 0) return { by: 'v8' };
  set(`--heap-growing-percent=${percent}`);
  return { by: 'config', percent };
}
