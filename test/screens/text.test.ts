import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, formatTimestamp, sanitize, shortHost } from '../../src/core/text.js';
import {
  fitBreadcrumb,
  fitWidth,
  layoutColumns,
  progressBar,
  textWidth,
  truncate,
  wrapText,
} from '../../src/terminal/text.js';

const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
/** Characters and fragments that make escape sequences, mixed with ordinary text. */
const terminalChars = fc.oneof(
  fc.integer({ min: 0, max: 0x2ff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(
    '\u001B[',
    '\u001B]',
    '\u001BP',
    '\u001B\\',
    '\u0007',
    '\u009B',
    '\u009D',
    '\u202E',
    ';',
    'm',
  ),
);

describe('sanitize', () => {
  it('removes CSI, OSC and two-character escapes with their payload', () => {
    expect(sanitize('a\u001B[31mred\u001B[0m')).toBe('ared');
    expect(sanitize('x\u001B]0;set title\u0007y')).toBe('xy');
    expect(sanitize('x\u001B]8;;http://evil\u001B\\link\u001B]8;;\u001B\\y')).toBe('xlinky');
    expect(sanitize('x\u001Bcy')).toBe('xy');
    expect(sanitize('x\u009B2Jy\u009D0;t\u009Cz')).toBe('xyz');
  });

  it('turns line breaks and tabs into spaces and drops other control and bidi characters', () => {
    expect(sanitize('one\r\ntwo\tthree')).toBe('one two three');
    expect(sanitize('a\u0000b\u0008c\u007Fd')).toBe('abcd');
    expect(sanitize('user\u202Egnp.exe')).toBe('usergnp.exe');
    expect(sanitize(undefined)).toBe('');
    expect(sanitize(42)).toBe('42');
  });

  it('never lets a control character through, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: terminalChars, maxLength: 60 }), (s) => {
        expect(sanitize(s)).not.toMatch(CONTROL);
      }),
    );
  });

  it('leaves ordinary IDs alone', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9.:_-]{1,128}$/), (id) => {
        expect(sanitize(id)).toBe(id);
      }),
    );
  });
});

describe('fitting text into columns', () => {
  it('truncates with an ellipsis only when needed, counting wide characters as two cells', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefg', 6)).toBe('abcde…');
    expect(truncate('日本語テキスト', 6)).toBe('日本…');
    expect(textWidth('日本')).toBe(4);
    expect(fitWidth('ab', 4)).toBe('ab  ');
    expect(fitWidth('7', 3, 'right')).toBe('  7');
  });

  it('truncate and fitWidth never exceed the width', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 40 }), (s, w) => {
        const clean = sanitize(s);
        expect(textWidth(truncate(clean, w))).toBeLessThanOrEqual(w);
        expect(textWidth(fitWidth(clean, w))).toBeLessThanOrEqual(w);
      }),
    );
  });

  it('wraps at spaces, splits words longer than a line, and loses no words', () => {
    expect(wrapText('the quick brown fox', 10)).toEqual(['the quick', 'brown fox']);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,15}$/), { maxLength: 20 }),
        fc.integer({ min: 4, max: 30 }),
        (words, w) => {
          const lines = wrapText(words.join(' '), w);
          for (const l of lines) expect(textWidth(l)).toBeLessThanOrEqual(w);
          expect(lines.join('').replace(/ /g, '')).toBe(words.join(''));
        },
      ),
    );
  });

  it('lays columns out to the exact row width', () => {
    const widths = layoutColumns([{ width: 3 }, { flex: 3 }, { flex: 2 }, { width: 10 }], 78);
    expect(widths[0]).toBe(3);
    expect(widths[3]).toBe(10);
    expect(widths.reduce((a, b) => a + b, 0) + 3).toBe(78);
  });

  it('keeps the end of a long breadcrumb', () => {
    const parts = ['Target', 'Enrollments', 'factory-7', 'Devices', 'Permanence', 'Review'];
    expect(fitBreadcrumb(parts, 100)).toBe(parts.join(' > '));
    const short = fitBreadcrumb(parts, 40);
    expect(short.startsWith('… > ')).toBe(true);
    expect(short.endsWith('Permanence > Review')).toBe(true);
    expect(textWidth(short)).toBeLessThanOrEqual(40);
  });
});

describe('formats', () => {
  it('formats durations, timestamps, hosts and bars', () => {
    expect(formatDuration(45_400)).toBe('45s');
    expect(formatDuration(185_000)).toBe('3m 05s');
    expect(formatDuration(3_720_000)).toBe('1h 02m');
    expect(formatTimestamp('2024-05-01T12:03:59Z')).toBe('2024-05-01 12:03');
    expect(formatTimestamp('not a date')).toBe('-');
    expect(shortHost('hub-eu.azure-devices.net')).toBe('hub-eu');
    expect(shortHost('my.example.com')).toBe('my.example.com');
    expect(progressBar(0.5, 10)).toBe('█████░░░░░');
    expect(progressBar(Number.NaN, 4)).toBe('░░░░');
  });
});
