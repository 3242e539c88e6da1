/**
 * The list filter's shortcuts (narrowing from a kept result, kept results for Backspace, texts built
 * in slices) must never change what matches: every answer equals a plain scan of the whole list.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ListSearch } from '../../src/screens/hooks/list-search.js';

const plainScan = (items: readonly string[], needle: string): string[] => {
  const n = needle.trim().toLowerCase();
  return n === '' ? [...items] : items.filter((item) => item.toLowerCase().includes(n));
};

describe('ListSearch', () => {
  it('answers every sequence of needles exactly as a scan of the whole list would', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '-', '0', '1', ' '), maxLength: 8 });
    fc.assert(
      fc.property(
        fc.array(text, { maxLength: 40 }),
        fc.array(text, { minLength: 1, maxLength: 25 }),
        fc.nat({ max: 45 }),
        (items, needles, preparedFirst) => {
          const search = new ListSearch(items, (s) => s);
          search.prepare(preparedFirst);
          for (const needle of needles) expect([...search.rows(needle)]).toEqual(plainScan(items, needle));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('narrows as a needle is typed and widens again on Backspace, on records with several fields', () => {
    const records = Array.from({ length: 5_000 }, (_, i) => ({
      id: `meter-${String(i).padStart(5, '0')}`,
      hub: ['hub-eu', 'hub-us', 'hub-asia'][i % 3] as string,
    }));
    const search = new ListSearch(records, (r) => `${r.id} ${r.hub}`);
    const typed = 'METER-04990 HUB-US';
    for (let end = 1; end <= typed.length; end++) {
      const needle = typed.slice(0, end);
      expect(search.rows(needle)).toEqual(
        records.filter((r) => `${r.id} ${r.hub}`.includes(needle.trim().toLowerCase())),
      );
    }
    expect(search.rows(typed).map((r) => r.id)).toEqual(['meter-04990']);
    for (let end = typed.length - 1; end >= 0; end--) {
      const needle = typed.slice(0, end);
      expect(search.rows(needle).length).toBe(
        plainScan(
          records.map((r) => `${r.id} ${r.hub}`),
          needle,
        ).length,
      );
    }
    expect(search.rows('')).toBe(records);
  });

  it('builds the search texts in slices, and all of them when a needle needs them', () => {
    const items = ['alpha', 'beta', 'gamma', 'delta'];
    let built = 0;
    const search = new ListSearch(items, (s) => {
      built++;
      return s;
    });
    expect(search.prepare(2)).toBe(false);
    expect(built).toBe(2);
    expect(search.rows('ta')).toEqual(['beta', 'delta']);
    expect(built).toBe(4);
    expect(search.prepare()).toBe(true);
    expect(built).toBe(4);
  });
});
