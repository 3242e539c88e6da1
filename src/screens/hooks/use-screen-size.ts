/** The terminal's size, updated on resize (SSH clients resize often). */
import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface ScreenSize {
  columns: number;
  rows: number;
}

export const MIN_SIZE: ScreenSize = { columns: 40, rows: 12 };

const read = (s: { columns?: number; rows?: number }): ScreenSize => ({
  columns: Math.max(MIN_SIZE.columns, s.columns || 80),
  rows: Math.max(MIN_SIZE.rows, s.rows || 24),
});

export function useScreenSize(override?: Partial<ScreenSize>): ScreenSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => read(stdout));
  useEffect(() => {
    const onResize = () => setSize(read(stdout));
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return { columns: override?.columns ?? size.columns, rows: override?.rows ?? size.rows };
}
