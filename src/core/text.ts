/**
 * Pure text helpers for terminal output: make service-provided text safe to print, and fit text
 * into fixed columns. Widths are terminal cells (a CJK character takes two, a combining mark none).
 */

// ESC sequences: CSI (ESC [ ... final), OSC/DCS/PM/APC/SOS (ESC ] P ^ _ X ... BEL or ST), and
// two-character escapes (ESC + one byte). Their 8-bit C1 forms are removed by the control-char pass.
const ESCAPE_SEQUENCE =
  /\u001B(?:\[[0-?]*[ -/]*[@-~]?|[\]P^_X][^\u0007\u001B]*(?:\u0007|\u001B\\)?|[\s\S]?)/g;
const C1_STRING = /[\u0090\u009D\u009E\u009F\u0098][^\u0007\u009C]*(?:\u0007|\u009C)?/g;
const C1_CSI = /\u009B[0-?]*[ -/]*[@-~]?/g;
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;
// Bidirectional overrides and isolates can make printed text read differently from what it is.
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
const WHITESPACE_BREAKS = /[\t\n\r\v\f]+/g;

/**
 * Text from a service (IDs, messages) made safe for a terminal: escape sequences and C0/C1 control
 * characters removed, line breaks and tabs turned into single spaces, bidi overrides removed.
 */
export function sanitize(text: unknown): string {
  if (text === undefined || text === null) return '';
  const s = typeof text === 'string' ? text : String(text);
  return s
    .replace(WHITESPACE_BREAKS, ' ')
    .replace(ESCAPE_SEQUENCE, '')
    .replace(C1_STRING, '')
    .replace(C1_CSI, '')
    .replace(CONTROL, '')
    .replace(BIDI, '');
}

/** Text per line made safe (line breaks kept): for messages of several lines. */
export function sanitizeLines(text: unknown): string {
  return String(text ?? '')
    .split(/\r?\n/)
    .map((line) => sanitize(line))
    .join('\n');
}

/** A value echoed back to the person (a flag's value, an argument): sanitized and at most `max` characters. */
export function printable(value: unknown, max = 80): string {
  const clean = sanitize(value);
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}

// JSON.stringify leaves these raw: DEL and the C1 controls, bidi controls, and the JS line separators.
const JSON_UNSAFE = /[\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u2028\u2029]/g;

/**
 * JSON for a terminal or a log: like JSON.stringify, with every control character (C0 and C1) and bidi
 * override written as a \u escape, so that parsing gives back the exact value and nothing acts on the
 * terminal that prints it.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const isCombining = (cp: number): boolean =>
  (cp >= 0x0300 && cp <= 0x036f) ||
  (cp >= 0x1ab0 && cp <= 0x1aff) ||
  (cp >= 0x1dc0 && cp <= 0x1dff) ||
  (cp >= 0x20d0 && cp <= 0x20ff) ||
  (cp >= 0xfe00 && cp <= 0xfe0f) ||
  (cp >= 0xfe20 && cp <= 0xfe2f) ||
  cp === 0x200b ||
  cp === 0x200c ||
  cp === 0x200d;

const isWide = (cp: number): boolean =>
  (cp >= 0x1100 && cp <= 0x115f) ||
  (cp >= 0x2e80 && cp <= 0x303e) ||
  (cp >= 0x3041 && cp <= 0x33ff) ||
  (cp >= 0x3400 && cp <= 0x4dbf) ||
  (cp >= 0x4e00 && cp <= 0x9fff) ||
  (cp >= 0xa000 && cp <= 0xa4cf) ||
  (cp >= 0xac00 && cp <= 0xd7a3) ||
  (cp >= 0xf900 && cp <= 0xfaff) ||
  (cp >= 0xfe30 && cp <= 0xfe4f) ||
  (cp >= 0xff00 && cp <= 0xff60) ||
  (cp >= 0xffe0 && cp <= 0xffe6) ||
  (cp >= 0x1f300 && cp <= 0x1f64f) ||
  (cp >= 0x1f900 && cp <= 0x1f9ff) ||
  (cp >= 0x20000 && cp <= 0x3fffd);

export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (isCombining(cp)) return 0;
  return isWide(cp) ? 2 : 1;
}

/** Terminal cells the text takes (expects sanitized text). */
export function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

export const ELLIPSIS = '…';

/** Cut text to at most `width` cells, ending with an ellipsis when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (textWidth(text) <= width) return text;
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = charWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return out + ELLIPSIS;
}

/** Exactly `width` cells: truncated with an ellipsis, or padded with spaces (right-aligned on request). */
export function fitWidth(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - textWidth(cut)));
  return align === 'left' ? cut + pad : pad + cut;
}

/** Break text into lines of at most `width` cells, at spaces when possible (long words are split). */
export function wrapText(text: string, width: number): string[] {
  if (width <= 0) return [];
  const lines: string[] = [];
  let line = '';
  const push = () => {
    lines.push(line.trimEnd());
    line = '';
  };
  for (const word of text.split(/ +/)) {
    if (word === '') continue;
    const sep = line === '' ? '' : ' ';
    if (textWidth(line) + sep.length + textWidth(word) <= width) {
      line += sep + word;
      continue;
    }
    if (line !== '') push();
    let rest = word;
    while (textWidth(rest) > width) {
      let head = '';
      let w = 0;
      let consumed = 0;
      for (const ch of rest) {
        const cw = charWidth(ch);
        if (w + cw > width) break;
        head += ch;
        w += cw;
        consumed += ch.length;
      }
      if (consumed === 0) break;
      lines.push(head);
      rest = rest.slice(consumed);
    }
    line = rest;
  }
  if (line !== '' || lines.length === 0) push();
  return lines;
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

/** 45s, 3m 05s, 1h 02m. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** 2024-05-01 12:03 (UTC), or '-' when missing or not a date. */
export function formatTimestamp(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '-';
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** hub-eu.azure-devices.net -> hub-eu (the suffix is the same for every hub and costs columns). */
export function shortHost(host: string | undefined): string {
  if (!host) return '-';
  return host.replace(/\.azure-devices(-provisioning)?\.net$/i, '');
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Keep the last parts of a breadcrumb that fit, replacing the dropped start with an ellipsis. */
export function fitBreadcrumb(parts: readonly string[], width: number, sep = ' > '): string {
  const full = parts.join(sep);
  if (textWidth(full) <= width) return full;
  for (let start = 1; start < parts.length; start++) {
    const candidate = [ELLIPSIS, ...parts.slice(start)].join(sep);
    if (textWidth(candidate) <= width) return candidate;
  }
  return truncate(parts[parts.length - 1] ?? '', width);
}
