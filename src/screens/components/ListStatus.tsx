/** The line under a list: "N of M" and the position, or the filter being typed. */
import type { ListState } from '../hooks/use-list-state.js';
import { sanitize } from '../../core/text.js';
import { Line } from './Line.js';

export function listStatusText(
  list: Pick<ListState<unknown>, 'rows' | 'total' | 'index' | 'filter' | 'filtering'>,
): string {
  const count = `${list.rows.length} of ${list.total}`;
  const at = list.rows.length > 0 ? ` · row ${list.index + 1}` : '';
  if (list.filtering) return `Filter: ${sanitize(list.filter)}▌  (Enter keeps it, Esc clears)  ${count}`;
  if (list.filter !== '') return `${count}${at} · filter "${sanitize(list.filter)}" (Esc clears)`;
  return `${count}${at}`;
}

export function ListStatus({ list, extra }: { list: ListState<unknown>; extra?: string }) {
  const text = listStatusText(list) + (extra ? ` · ${extra}` : '');
  return <Line text={text} tone={list.filtering ? 'accent' : 'dim'} bold={list.filtering} />;
}
