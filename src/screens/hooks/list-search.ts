/**
 * Type-to-filter over a long list (100,000 registration records) without stalling a key press:
 * - the lower-cased search texts are built in slices (`prepare`), so a list view can build them while
 *   the person reads, rather than on the first filter key;
 * - a longer needle only searches the rows the shorter one matched (typing narrows the list);
 * - the last few needles' results are kept, so Backspace is a lookup.
 */
const KEPT_RESULTS = 8;

interface Result<T> {
  indices: number[];
  rows: readonly T[];
}

export class ListSearch<T> {
  private readonly texts: string[] = [];
  private readonly results = new Map<string, Result<T>>();

  constructor(
    readonly items: readonly T[],
    private readonly searchText: (item: T) => string,
  ) {}

  /** How many items' search texts are built. */
  get prepared(): number {
    return this.texts.length;
  }

  /** Builds the search texts of the items up to `end` (all by default); true once all are built. */
  prepare(end = this.items.length): boolean {
    const stop = Math.min(end, this.items.length);
    for (let i = this.texts.length; i < stop; i++) {
      this.texts.push(this.searchText(this.items[i] as T).toLowerCase());
    }
    return this.texts.length >= this.items.length;
  }

  /** The items whose search text contains the needle (case-insensitive, trimmed); all for an empty one. */
  rows(needle: string): readonly T[] {
    const n = needle.trim().toLowerCase();
    if (n === '') return this.items;
    const kept = this.results.get(n);
    if (kept) {
      // Most recently used last: it is the last to be dropped.
      this.results.delete(n);
      this.results.set(n, kept);
      return kept.rows;
    }
    this.prepare();
    // Every text that contains n also contains each of its substrings: start from the narrowest one kept.
    let base: number[] | undefined;
    let baseLength = -1;
    for (const [k, r] of this.results) {
      if (k.length > baseLength && n.includes(k)) {
        base = r.indices;
        baseLength = k.length;
      }
    }
    const indices: number[] = [];
    const texts = this.texts;
    if (base) {
      for (const i of base) if ((texts[i] as string).includes(n)) indices.push(i);
    } else {
      for (let i = 0; i < texts.length; i++) if ((texts[i] as string).includes(n)) indices.push(i);
    }
    const result = { indices, rows: indices.map((i) => this.items[i] as T) };
    this.results.set(n, result);
    if (this.results.size > KEPT_RESULTS) this.results.delete(this.results.keys().next().value as string);
    return result.rows;
  }
}
