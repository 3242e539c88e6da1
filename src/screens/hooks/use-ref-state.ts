/**
 * State that key handlers can read synchronously. Ink delivers the keys of one stdin chunk
 * ("\u001B[B\r" = Down + Enter) to the same handler closure with no render in between, so a handler
 * that reads React state sees the value from before Down: Enter would act on the previous item.
 * Handlers read `get()` (a ref, updated as the setter runs); rendering reads `value`.
 */
import { useCallback, useRef, useState } from 'react';

export type Update<T> = T | ((previous: T) => T);

export function useRefState<T>(initial: T | (() => T)): [T, (next: Update<T>) => void, () => T] {
  const ref = useRef<{ value: T } | null>(null);
  if (ref.current === null) {
    ref.current = { value: typeof initial === 'function' ? (initial as () => T)() : initial };
  }
  const [value, setValue] = useState<T>(ref.current.value);
  const set = useCallback((next: Update<T>) => {
    const box = ref.current as { value: T };
    box.value = typeof next === 'function' ? (next as (previous: T) => T)(box.value) : next;
    setValue(box.value);
  }, []);
  const get = useCallback(() => (ref.current as { value: T }).value, []);
  return [value, set, get];
}
