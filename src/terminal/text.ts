/**
 * Fitting text into terminal cells, measured the way Ink measures it: the same `string-width`,
 * `cli-truncate` and `wrap-ansi` Ink draws with, so a row the app sizes takes the cells Ink gives it
 * (a CJK character or an emoji takes two, a combining mark none). Text from a service is sanitized
 * first (core/text.ts); these helpers only measure and cut.
 */
import cliTruncate from 'cli-truncate';
import stringWidth from 'string-width';
import wrapAnsi from 'wrap-ansi';

export const ELLIPSIS = '…';

/** Terminal cells the text takes, as Ink counts them (expects sanitized text). */
export function textWidth(text: string): number {
  return stringWidth(text);
}

/** Cut text to at most `width` cells, ending with an ellipsis when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  const cut = cliTruncate(text, width, { position: 'end', truncationCharacter: ELLIPSIS });
  // A wide character straddling the edge can leave one cell over: drop characters until it fits.
  return stringWidth(cut) <= width
    ? cut
    : shrinkToWidth(cut.slice(0, -ELLIPSIS.length), width - 1) + ELLIPSIS;
}

function shrinkToWidth(text: string, width: number): string {
  const chars = Array.from(text);
  while (chars.length > 0 && stringWidth(chars.join('')) > width) chars.pop();
  return chars.join('');
}

/** Exactly `width` cells: truncated with an ellipsis, or padded with spaces (right-aligned on request). */
export function fitWidth(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - stringWidth(cut)));
  return align === 'left' ? cut + pad : pad + cut;
}

/** Break text into lines of at most `width` cells, at spaces when possible (long words are split). */
export function wrapText(text: string, width: number): string[] {
  if (width <= 0) return [];
  const words = text.split(/ +/).filter((w) => w !== '');
  if (words.length === 0) return [''];
  return wrapAnsi(words.join(' '), width, { hard: true, trim: true }).split('\n');
}

/** A column of a fixed-width table row: a fixed width, or a share of what is left. */
export interface ColumnSpec {
  width?: number;
  flex?: number;
  min?: number;
  align?: 'left' | 'right';
}

/** Widths for the columns so that the row (with `gap` spaces between cells) fills `total` cells. */
export function layoutColumns(specs: readonly ColumnSpec[], total: number, gap = 1): number[] {
  const fixed = specs.reduce((sum, c) => sum + (c.width ?? 0), 0);
  const gaps = gap * Math.max(0, specs.length - 1);
  const flexTotal = specs.reduce((sum, c) => sum + (c.width === undefined ? (c.flex ?? 1) : 0), 0);
  const free = Math.max(0, total - fixed - gaps);
  const widths = specs.map((c) =>
    c.width !== undefined
      ? c.width
      : Math.max(c.min ?? 1, Math.floor((free * (c.flex ?? 1)) / (flexTotal || 1))),
  );
  // Give the rounding remainder to the first flexible column so rows end exactly at `total`.
  const used = widths.reduce((a, b) => a + b, 0) + gaps;
  const firstFlex = specs.findIndex((c) => c.width === undefined);
  if (firstFlex >= 0 && used < total) widths[firstFlex] += total - used;
  return widths;
}

/** One table row: each cell fitted to its width, cells separated by `gap` spaces. */
export function formatRow(
  cells: readonly string[],
  widths: readonly number[],
  specs?: readonly ColumnSpec[],
  gap = 1,
): string {
  return cells.map((cell, i) => fitWidth(cell, widths[i] ?? 0, specs?.[i]?.align)).join(' '.repeat(gap));
}

/** A bar of `width` cells, filled in proportion (text only, so it reads without colour). */
export function progressBar(fraction: number, width: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * width);
  return '█'.repeat(filled) + '░'.repeat(Math.max(0, width - filled));
}

/** Keep the last parts of a breadcrumb that fit, replacing the dropped start with an ellipsis. */
export function fitBreadcrumb(parts: readonly string[], width: number, sep = ' > '): string {
  const full = parts.join(sep);
  if (stringWidth(full) <= width) return full;
  for (let start = 1; start < parts.length; start++) {
    const candidate = [ELLIPSIS, ...parts.slice(start)].join(sep);
    if (stringWidth(candidate) <= width) return candidate;
  }
  return truncate(parts[parts.length - 1] ?? '', width);
}
