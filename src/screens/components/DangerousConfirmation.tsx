/**
 * The confirmation of a permanent action: the person types the exact ID of what is deleted and presses
 * Enter (the pattern of Shopify cli-kit's DangerousConfirmationPrompt). Esc cancels; a mismatch says so
 * and keeps what was typed. `useDangerousConfirmation` holds the typed text and handles keys (a screen
 * routes its keys to it); `DangerousConfirmation` draws it; `DangerousConfirmationPrompt` is both,
 * reading the keys itself, for use outside the App's key routing.
 */
import { Box, useInput } from 'ink';
import { wrapText } from '../../terminal/text.js';
import type { KeyHandler } from '../context.js';
import { type Keystroke, isPrintable, toKeystrokes } from '../hooks/keys.js';
import { useRefState } from '../hooks/use-ref-state.js';
import { Line, type Tone } from './Line.js';

export interface DangerousConfirmationOptions {
  /** The ID to type, already made printable (sanitized). */
  confirmId: string;
  onConfirm: () => void;
  onCancel: () => void;
}

export interface ConfirmationLine {
  text: string;
  tone: Tone;
  bold?: boolean;
}

export interface DangerousConfirmationState {
  /** Handles one key; true when it was the confirmation's (every printable key is: typing 'q' types q). */
  handleKey: KeyHandler;
  /** The prompt, what was typed, and the mismatch message if any, wrapped to `columns`. */
  lines(columns: number): ConfirmationLine[];
}

export function useDangerousConfirmation({
  confirmId,
  onConfirm,
  onCancel,
}: DangerousConfirmationOptions): DangerousConfirmationState {
  const [typed, setTyped, getTyped] = useRefState('');
  const [mismatch, setMismatch] = useRefState(false);
  const handleKey = (k: Keystroke): boolean => {
    if (isPrintable(k)) {
      setTyped((t) => t + k.text);
      setMismatch(false);
    } else if (k.name === 'backspace') setTyped((t) => Array.from(t).slice(0, -1).join(''));
    else if (k.name === 'return') {
      if (getTyped() === confirmId) onConfirm();
      else setMismatch(true);
    } else if (k.name === 'escape') onCancel();
    else return false;
    return true;
  };
  const lines = (columns: number): ConfirmationLine[] => [
    ...wrapText(`! PERMANENT. Type ${confirmId} and press Enter to confirm, or Esc to go back.`, columns).map(
      (text) => ({ text, tone: 'danger' as const, bold: true }),
    ),
    ...wrapText(`> ${typed}▌`, columns).map((text) => ({ text, tone: 'plain' as const })),
    ...(mismatch
      ? wrapText(`That does not match ${confirmId}: type it exactly.`, columns).map((text) => ({
          text,
          tone: 'danger' as const,
        }))
      : []),
  ];
  return { handleKey, lines };
}

export function DangerousConfirmation({
  state,
  columns,
}: {
  state: DangerousConfirmationState;
  columns: number;
}) {
  return (
    <Box flexDirection="column">
      {state.lines(columns).map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the prompt's lines, re-created as a whole
        <Line key={i} text={line.text} tone={line.tone} bold={line.bold} />
      ))}
    </Box>
  );
}

/** The confirmation reading its own keys (outside the App's routing). */
export function DangerousConfirmationPrompt(props: DangerousConfirmationOptions & { columns?: number }) {
  const state = useDangerousConfirmation(props);
  useInput((input, key) => {
    for (const k of toKeystrokes(input, key)) state.handleKey(k);
  });
  return <DangerousConfirmation state={state} columns={props.columns ?? 80} />;
}
