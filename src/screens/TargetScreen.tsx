/** Step 1: where the tool will act (sandbox or Azure), and how it authenticates to each service. */
import { Box } from 'ink';
import { sanitize } from '../core/text.js';
import { layoutColumns, formatRow } from '../terminal/text.js';
import { Line } from './components/Line.js';
import { WindowedList } from './components/WindowedList.js';
import { type KeyHint, useScreen } from './context.js';
import { isChar, type Keystroke } from './hooks/keys.js';
import type { Backend } from '../services/backend.js';
import { useListState } from './hooks/use-list-state.js';

const HINTS: KeyHint[] = [
  { keys: 'Enter', does: 'continue', footer: true },
  { keys: 'r', does: 'runs', footer: true },
  { keys: 'f', does: 'find device', footer: true },
  { keys: '↑↓ j/k', does: 'move through the hubs' },
  { keys: 'PgUp/PgDn g/G', does: 'page, first, last hub' },
  { keys: 'q', does: 'quit', footer: true },
];

type Hub = { host: string; auth: string; hasCredentials: boolean };

/** Where a key on this screen leads: Enter the enrollments, f find devices, r the recorded runs. */
function nextScreen(k: Keystroke, backend: Backend): 'enrollments' | 'findDevices' | 'runs' | undefined {
  if (k.name === 'return') return 'enrollments';
  if (isChar(k, 'f') && backend.findDevices) return 'findDevices';
  if ((isChar(k, 'r') || isChar(k, 'R')) && backend.listRuns) return 'runs';
  return undefined;
}

function TargetBanner({ sandbox }: { sandbox: boolean }) {
  return sandbox ? (
    <Line text="[SANDBOX] A local emulator with demo data: nothing here touches Azure." tone="caution" bold />
  ) : (
    <Line text="AZURE: changes made here affect real devices." tone="danger" bold />
  );
}

export function TargetScreen() {
  const app = useScreen(HINTS, (k) => {
    const next = nextScreen(k, app.backend);
    if (!next) return list.handleKey(k);
    app.nav.push({ screen: next });
    return true;
  });
  const { backend, columns, bodyRows } = app;
  const target = backend.target;
  const sandbox = target.kind === 'sandbox';
  const fixedLines = 7 + (target.endpoint ? 1 : 0);
  const listHeight = Math.max(1, bodyRows - fixedLines);
  const list = useListState<Hub>(target.hubs, {
    searchText: (h) => h.host,
    height: listHeight,
    filterable: false,
  });
  const missing = target.hubs.filter((h) => !h.hasCredentials).length;
  const specs = [{ flex: 3 }, { flex: 2 }];
  const widths = layoutColumns(specs, columns - 4);
  return (
    <Box flexDirection="column">
      <TargetBanner sandbox={sandbox} />
      {target.endpoint ? <Line text={`Endpoint  ${sanitize(target.endpoint)}`} /> : null}
      <Line text={`DPS       ${sanitize(target.dpsHost)}   auth: ${sanitize(target.dpsAuth)}`} />
      <Line text=" " />
      <Line
        text={`IoT hubs (${target.hubs.length})${missing > 0 ? `: ${missing} without credentials` : ''}`}
        bold
        tone={missing > 0 ? 'caution' : 'plain'}
      />
      <Line text={`  ${formatRow(['  HUB', 'AUTH'], widths)}`} tone="dim" />
      <WindowedList
        rows={list.rows}
        offset={list.offset}
        height={listHeight}
        index={list.index}
        empty="No hubs configured: devices cannot be deregistered."
        render={(h) =>
          h.hasCredentials
            ? { text: formatRow([`  ${sanitize(h.host)}`, sanitize(h.auth)], widths) }
            : {
                text: formatRow([`! ${sanitize(h.host)}`, 'NO CREDENTIALS (no hub step)'], widths),
                tone: 'danger',
              }
        }
      />
      <Line text=" " />
      <Line text="Press Enter to choose an enrollment. r: recorded runs. f: find devices by ID." />
    </Box>
  );
}
