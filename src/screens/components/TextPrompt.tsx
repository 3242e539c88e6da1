/**
 * A one-line typed answer inside a screen (a certificate path, a group ID): the screen routes its keys
 * here while the prompt is open. Enter submits what was typed, Esc cancels; every printable key is the
 * prompt's (typing 'q' types q).
 */
import { Box } from 'ink';
import { sanitize } from '../../core/text.js';
import { wrapText } from '../../terminal/text.js';
import type { KeyHandler } from '../context.js';
import { type Keystroke, isPrintable } from '../hooks/keys.js';
import { useRefState } from '../hooks/use-ref-state.js';
import { Line } from './Line.js';

export interface TextPromptState {
  open: boolean;
  /** Opens the prompt with `question` (already printable), empty answer. */
  ask(question: string): void;
  close(): void;
  /** Replaces the answer so far (a suggestion picked from a list). */
  fill(text: string): void;
  handleKey: KeyHandler;
  question: string;
  typed: string;
}

export function useTextPrompt(onSubmit: (text: string) => void): TextPromptState {
  const [state, setState, getState] = useRefState<{ open: boolean; question: string; typed: string }>({
    open: false,
    question: '',
    typed: '',
  });
  const handleKey = (k: Keystroke): boolean => {
    const s = getState();
    if (!s.open) return false;
    if (isPrintable(k)) setState({ ...s, typed: s.typed + k.text });
    else if (k.name === 'backspace') setState({ ...s, typed: Array.from(s.typed).slice(0, -1).join('') });
    else if (k.name === 'return') {
      setState({ ...s, open: false });
      onSubmit(s.typed);
    } else if (k.name === 'escape') setState({ ...s, open: false });
    // Other keys (arrows, Tab) do nothing while typing, and go nowhere else.
    return true;
  };
  return {
    open: state.open,
    question: state.question,
    typed: state.typed,
    ask: (question) => setState({ open: true, question, typed: '' }),
    close: () => setState({ ...getState(), open: false }),
    fill: (typed) => setState({ ...getState(), typed }),
    handleKey,
  };
}

/** The question and the answer so far (the tail of a long answer stays in view). */
export function TextPrompt({ state, columns }: { state: TextPromptState; columns: number }) {
  const room = Math.max(10, columns - 4);
  const typed = sanitize(state.typed);
  const shown = typed.length > room ? `…${typed.slice(typed.length - room + 1)}` : typed;
  return (
    <Box flexDirection="column">
      <Line text={wrapText(state.question, columns)[0] ?? ''} tone="accent" />
      <Line text={`> ${shown}▌`} />
    </Box>
  );
}
