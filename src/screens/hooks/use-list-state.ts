/**
 * The state of one windowed list: highlighted row, scroll offset, and a type-to-filter needle.
 * Every read a key handler makes goes through refs (see use-ref-state.ts), so a burst of keys in one
 * stdin chunk acts on what the screen would show after each key. Filtering goes through ListSearch
 * (list-search.ts): search texts built in slices after the items arrive, narrowing, kept results; so
 * 100,000 rows stay fast, and nothing here maps the list into elements.
 */
import { useCallback, useEffect, useRef } from 'react';
import { type Keystroke, isChar, isPrintable } from './keys.js';
import { ListSearch } from './list-search.js';
import { useRefState } from './use-ref-state.js';

/** Items whose search texts are built per event-loop turn in the background (a few ms each). */
const PREPARE_SLICE = 2_000;

export interface ListStateOptions<T> {
  /** The text `/` searches in, e.g. the row's cells joined. */
  searchText: (item: T) => string;
  /** Rows the window shows. */
  height: number;
  /** Allow `/` filtering (off for short fixed lists). */
  filterable?: boolean;
}

export interface ListState<T> {
  /** Items matching the filter (the very same array when there is no filter). */
  rows: readonly T[];
  total: number;
  index: number;
  /** First row of the window. */
  offset: number;
  filter: string;
  /** The filter line has the keyboard (typing edits the needle). */
  filtering: boolean;
  /** The highlighted item after every key handled so far (safe within a burst of keys). */
  current(): T | undefined;
  /** The filtered rows after every key handled so far. */
  currentRows(): readonly T[];
  /** The filter after every key handled so far. */
  currentFilter(): string;
  /** Handles movement and filter keys; false when the key is not the list's. */
  handleKey(k: Keystroke): boolean;
}

interface Position {
  index: number;
  offset: number;
  filter: string;
  filtering: boolean;
}

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));

/** The window's first row so that `index` is visible and the window is as full as it can be. */
export function windowOffset(index: number, offset: number, height: number, length: number): number {
  const h = Math.max(1, height);
  let top = clamp(offset, index - h + 1, index);
  top = clamp(top, 0, Math.max(0, length - h));
  return top;
}

export function useListState<T>(items: readonly T[], options: ListStateOptions<T>): ListState<T> {
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const search = useRef<ListSearch<T> | null>(null);
  const [pos, setPos, getPos] = useRefState<Position>({ index: 0, offset: 0, filter: '', filtering: false });

  const searchFor = useCallback((): ListSearch<T> => {
    const list = itemsRef.current;
    if (search.current?.items !== list) {
      search.current = new ListSearch(list, (item) => optionsRef.current.searchText(item));
    }
    return search.current;
  }, []);
  const rowsFor = useCallback((needle: string): readonly T[] => searchFor().rows(needle), [searchFor]);

  // Build the search texts while the person reads the list, a slice per turn of the event loop.
  const filterable = options.filterable !== false;
  // biome-ignore lint/correctness/useExhaustiveDependencies: new items mean new search texts
  useEffect(() => {
    if (!filterable) return;
    let timer: NodeJS.Immediate | undefined;
    const slice = () => {
      const s = searchFor();
      timer = s.prepare(s.prepared + PREPARE_SLICE) ? undefined : setImmediate(slice);
    };
    timer = setImmediate(slice);
    return () => {
      if (timer) clearImmediate(timer);
    };
  }, [items, filterable, searchFor]);

  const currentRows = useCallback(() => rowsFor(getPos().filter), [rowsFor, getPos]);
  const current = useCallback(() => {
    const rows = currentRows();
    return rows[clamp(getPos().index, 0, rows.length - 1)];
  }, [currentRows, getPos]);

  const moveTo = useCallback(
    (next: (p: Position, length: number, height: number) => number) => {
      setPos((p) => {
        const length = rowsFor(p.filter).length;
        const height = Math.max(1, optionsRef.current.height);
        const index = clamp(next(p, length, height), 0, Math.max(0, length - 1));
        return { ...p, index, offset: windowOffset(index, p.offset, height, length) };
      });
    },
    [setPos, rowsFor],
  );

  const handleKey = useCallback(
    (k: Keystroke): boolean => {
      const p = getPos();
      if (p.filtering) {
        if (isPrintable(k)) {
          setPos({ ...p, filter: p.filter + k.text, index: 0, offset: 0 });
          return true;
        }
        if (k.name === 'backspace') {
          setPos({ ...p, filter: Array.from(p.filter).slice(0, -1).join(''), index: 0, offset: 0 });
          return true;
        }
        if (k.name === 'escape') {
          setPos({ ...p, filter: '', filtering: false, index: 0, offset: 0 });
          return true;
        }
        if (k.name === 'return') {
          setPos({ ...p, filtering: false });
          return true;
        }
      }
      switch (k.name) {
        case 'up':
          moveTo((q) => q.index - 1);
          return true;
        case 'down':
          moveTo((q) => q.index + 1);
          return true;
        case 'pageUp':
          moveTo((q, _l, h) => q.index - h);
          return true;
        case 'pageDown':
          moveTo((q, _l, h) => q.index + h);
          return true;
        case 'home':
          moveTo(() => 0);
          return true;
        case 'end':
          moveTo((_q, l) => l - 1);
          return true;
        case 'escape':
          if (p.filter === '') return false;
          setPos({ ...p, filter: '', filtering: false, index: 0, offset: 0 });
          return true;
        default:
          break;
      }
      if (p.filtering) return false;
      if (isChar(k, 'k')) moveTo((q) => q.index - 1);
      else if (isChar(k, 'j')) moveTo((q) => q.index + 1);
      else if (isChar(k, 'g')) moveTo(() => 0);
      else if (isChar(k, 'G')) moveTo((_q, l) => l - 1);
      else if (isChar(k, '/') && optionsRef.current.filterable !== false) setPos({ ...p, filtering: true });
      else return false;
      return true;
    },
    [getPos, setPos, moveTo],
  );

  const rows = rowsFor(pos.filter);
  const index = clamp(pos.index, 0, Math.max(0, rows.length - 1));
  return {
    rows,
    total: items.length,
    index,
    offset: windowOffset(index, pos.offset, options.height, rows.length),
    filter: pos.filter,
    filtering: pos.filtering,
    current,
    currentRows,
    currentFilter: () => getPos().filter,
    handleKey,
  };
}
