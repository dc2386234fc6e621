import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from '../../../src/server/heap.js';

describe('server.heapGrowthPercent', () => {
  const recorder = () => {
    const flags: string[] = [];
    return { flags, set: (f: string) => void flags.push(f) };
  };

  it('sets V8 heap growth to the configured percent', () => {
    const v8 = recorder();
    expect(limitHeapGrowth(25, [], v8.set)).toEqual({ by: 'config', percent: 25 });
    expect(v8.flags).toEqual(['--heap-growing-percent=25']);
  });

  it("leaves V8's own growth at 0", () => {
    const v8 = recorder();
    expect(limitHeapGrowth(0, [], v8.set)).toEqual({ by: 'v8' });
    expect(v8.flags).toEqual([]);
  });

  it('lets a --heap-growing-percent flag given to node win, in either spelling', () => {
    for (const flag of ['--heap-growing-percent=50', '--heap_growing_percent=50']) {
      const v8 = recorder();
      expect(limitHeapGrowth(25, ['--enable-source-maps', flag], v8.set)).toEqual({ by: 'node flag' });
      expect(v8.flags).toEqual([]);
    }
  });
});
