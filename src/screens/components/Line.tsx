/**
 * One terminal line. Text is fitted to the width before Ink sees it, so no row ever wraps into the
 * next one at 80 columns; colour is an extra, never the only signal (the words and markers carry the
 * meaning under NO_COLOR).
 */
import { Text } from 'ink';
import { truncate } from '../../terminal/text.js';
import { useLook } from '../context.js';

export type Tone = 'plain' | 'danger' | 'caution' | 'ok' | 'info' | 'accent' | 'dim';

const COLOURS: Record<Tone, string | undefined> = {
  plain: undefined,
  danger: 'red',
  caution: 'yellow',
  ok: 'green',
  info: 'cyan',
  accent: 'blue',
  dim: undefined,
};

export interface LineProps {
  text: string;
  tone?: Tone;
  bold?: boolean;
  inverse?: boolean;
  /** Width to fit into; defaults to the screen width. */
  width?: number;
}

export function Line({ text, tone = 'plain', bold, inverse, width }: LineProps) {
  const { color, columns } = useLook();
  const fitted = truncate(text, width ?? columns);
  return (
    <Text
      wrap="truncate-end"
      color={color ? COLOURS[tone] : undefined}
      dimColor={tone === 'dim'}
      bold={bold}
      inverse={inverse}
    >
      {fitted === '' ? ' ' : fitted}
    </Text>
  );
}
