import { describe, expect, it } from 'vitest';
import { mapLimited } from '../../src/services/concurrency.js';

describe('mapLimited', () => {
  it('keeps input order and never exceeds the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimited([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('starts nothing new after a failure and rejects with it', async () => {
    const started: number[] = [];
    const run = mapLimited([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, 1));
      if (n === 1) throw new Error('throttled');
      return n;
    });
    await expect(run).rejects.toThrow('throttled');
    expect(started).toEqual([1, 2]);
  });
});
