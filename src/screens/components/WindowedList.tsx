/**
 * The one list component every screen uses. It renders only the rows inside the window (never the
 * whole list), the highlighted one with a "›" marker and inverse video, and pads the window with
 * empty lines so the layout below it does not jump.
 *
 * Rows are plain fixed-width strings built with `formatRow` (terminal/text.ts) rather than
 * @alcalzone/ink-table: ink-table sizes its columns from the content it is given and draws borders,
 * so a long ID would widen the table past 80 columns and wrap, and it has no notion of a highlighted
 * or marked row. Fixed-width strings keep every row on exactly one line.
 */
import { Box } from 'ink';
import type { ReactNode } from 'react';
import { Line, type Tone } from './Line.js';

export interface ListRow {
  text: string;
  tone?: Tone;
  bold?: boolean;
}

export interface WindowedListProps<T> {
  rows: readonly T[];
  offset: number;
  height: number;
  /** Highlighted row index, or -1 for a list without a cursor. */
  index: number;
  render: (item: T, highlighted: boolean) => ListRow;
  /** Shown when there are no rows. */
  empty?: string;
  /** Keep the window's full height even when fewer rows exist. */
  pad?: boolean;
  /** Hide the cursor marker (the list does not have the keyboard). */
  inactive?: boolean;
}

export function WindowedList<T>({
  rows,
  offset,
  height,
  index,
  render,
  empty,
  pad = true,
  inactive,
}: WindowedListProps<T>) {
  const lines: ReactNode[] = [];
  const end = Math.min(rows.length, offset + height);
  for (let i = offset; i < end; i++) {
    const highlighted = i === index && !inactive;
    const row = render(rows[i] as T, highlighted);
    const marker = index < 0 ? '' : highlighted ? '› ' : '  ';
    lines.push(
      <Line key={i} text={marker + row.text} tone={row.tone} bold={row.bold} inverse={highlighted} />,
    );
  }
  if (rows.length === 0 && empty) lines.push(<Line key="empty" text={`  ${empty}`} tone="dim" />);
  if (pad) {
    for (let i = lines.length; i < height; i++) lines.push(<Line key={`pad${i}`} text=" " />);
  }
  return <Box flexDirection="column">{lines}</Box>;
}
