/**
 * Pure text helpers: make service-provided text safe to print (a security boundary every layer uses),
 * and short formats. Measuring and fitting text into terminal cells is presentation: terminal/text.ts.
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
  return JSON.stringify(value).replace(
    JSON_UNSAFE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
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

/** 1 device, 2 devices, 2,000 devices (`many` for irregular plurals). The one plural of the app. */
export const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
