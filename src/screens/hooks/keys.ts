/**
 * One keystroke in the screens' own terms. Ink hands `useInput` one event per escape sequence, but
 * plain bytes that arrive together (keys buffered by a slow SSH link, a paste) come as one string:
 * "j\r" would otherwise be neither a move nor Enter. Splitting them keeps every key.
 */
import type { Key } from 'ink';

export type KeyName =
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'pageUp'
  | 'pageDown'
  | 'home'
  | 'end'
  | 'return'
  | 'escape'
  | 'tab'
  | 'backspace'
  | 'char';

export interface Keystroke {
  name: KeyName;
  /** The printable character for 'char' (a letter for Ctrl+letter), else ''. */
  text: string;
  ctrl: boolean;
  shift: boolean;
}

const stroke = (name: KeyName, text = '', ctrl = false, shift = false): Keystroke => ({
  name,
  text,
  ctrl,
  shift,
});

function fromChar(ch: string): Keystroke {
  if (ch === '\r' || ch === '\n') return stroke('return');
  if (ch === '\t') return stroke('tab');
  if (ch === '\u007F' || ch === '\b') return stroke('backspace');
  if (ch === '\u001B') return stroke('escape');
  const code = ch.codePointAt(0) ?? 0;
  if (code > 0 && code < 0x20) return stroke('char', String.fromCharCode(code + 96), true);
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return stroke('char', '', true);
  return stroke('char', ch, false, ch !== ch.toLowerCase());
}

/** Ink's (input, key) as zero or more keystrokes. */
export function toKeystrokes(input: string, key: Key): Keystroke[] {
  if (key.upArrow) return [stroke('up')];
  if (key.downArrow) return [stroke('down')];
  if (key.leftArrow) return [stroke('left')];
  if (key.rightArrow) return [stroke('right')];
  if (key.pageUp) return [stroke('pageUp')];
  if (key.pageDown) return [stroke('pageDown')];
  if (key.home) return [stroke('home')];
  if (key.end) return [stroke('end')];
  if (key.return) return [stroke('return')];
  if (key.escape) return [stroke('escape')];
  if (key.tab) return [stroke('tab', '', false, key.shift)];
  // Most terminals send DEL (0x7f) for Backspace, which Ink names "delete".
  if (key.backspace || key.delete) return [stroke('backspace')];
  if (key.ctrl && input.length === 1) return [stroke('char', input.toLowerCase(), true)];
  if (input.length === 0) return [];
  return Array.from(input, fromChar);
}

export const isChar = (k: Keystroke, ch: string): boolean => k.name === 'char' && !k.ctrl && k.text === ch;
export const isCtrl = (k: Keystroke, letter: string): boolean =>
  k.name === 'char' && k.ctrl && k.text === letter;
export const isPrintable = (k: Keystroke): boolean => k.name === 'char' && !k.ctrl && k.text !== '';
