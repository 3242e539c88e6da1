/** The frame around every screen: a header with the sandbox badge and breadcrumb, a key-hint footer. */
import { Box, Text } from 'ink';
import { fitWidth, fitBreadcrumb, textWidth, truncate } from '../../terminal/text.js';
import type { KeyHint } from '../context.js';
import { useLook } from '../context.js';
import { Line } from './Line.js';

export const SANDBOX_BADGE = '[SANDBOX]';
const TITLE = 'iot-deprovision';

export interface HeaderProps {
  sandbox: boolean;
  crumbs: string[];
  /** The character of the line under the header. */
  rule?: string;
}

export function Header({ sandbox, crumbs, rule = '─' }: HeaderProps) {
  const { color, columns } = useLook();
  const badge = sandbox ? ` ${SANDBOX_BADGE}` : '';
  const left = TITLE + badge;
  const room = Math.max(0, columns - textWidth(left) - 3);
  const crumb = fitWidth(fitBreadcrumb(crumbs, room), room);
  return (
    <Box flexDirection="column">
      <Box>
        <Text bold>{TITLE}</Text>
        {sandbox ? (
          <Text>
            {' '}
            <Text color={color ? 'black' : undefined} backgroundColor={color ? 'yellow' : undefined} bold>
              {SANDBOX_BADGE}
            </Text>
          </Text>
        ) : null}
        <Text wrap="truncate-end">{`   ${crumb}`}</Text>
      </Box>
      <Line text={rule.repeat(columns)} tone="dim" />
    </Box>
  );
}

export function footerText(hints: readonly KeyHint[], width: number): string {
  const help = '? help';
  const room = width - help.length - 2;
  let out = '';
  for (const part of hints.filter((h) => h.footer).map((h) => `${h.keys} ${h.does}`)) {
    const next = out === '' ? part : `${out}  ${part}`;
    if (textWidth(next) > room) break;
    out = next;
  }
  return truncate(out === '' ? help : `${out}  ${help}`, width);
}

export function Footer({ hints }: { hints: readonly KeyHint[] }) {
  const { columns } = useLook();
  return <Line text={footerText(hints, columns)} tone="dim" />;
}

export const GLOBAL_HINTS: KeyHint[] = [
  { keys: '?', does: 'show or hide this help' },
  { keys: 'Esc', does: 'go back one step' },
  { keys: 'q', does: 'quit (asks first while a run is going)' },
  { keys: 'Ctrl-C', does: 'quit; during a run: abort safely, then quit' },
];

export function HelpOverlay({ hints, height }: { hints: readonly KeyHint[]; height: number }) {
  const { columns } = useLook();
  const own = new Set(hints.map((h) => h.keys));
  const all = [...hints, ...GLOBAL_HINTS.filter((h) => !own.has(h.keys))];
  const keyWidth = Math.min(18, Math.max(...all.map((h) => textWidth(h.keys))) + 2);
  const lines = [
    'Keys on this screen (press ? or Esc to close)',
    '',
    ...all.map((h) => `  ${fitWidth(h.keys, keyWidth)}${h.does}`),
  ];
  const shown = lines.slice(0, height);
  return (
    <Box flexDirection="column" height={height}>
      {shown.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines, re-created as a whole
        <Line key={`${i}:${l}`} text={l} bold={i === 0} width={columns} />
      ))}
    </Box>
  );
}
