/**
 * On-call: find devices by their IDs (f on the Target and Enrollments screens). The engineer types the
 * IDs (spaces or commas between them); DPS is searched (each ID's individual enrollment, else the group
 * whose registration records hold it, page by page within the operation budget, with progress); the
 * result says where each one is, and Enter takes them on as ONE selection to the Permanence screen.
 */
import { Box } from 'ink';
import { devicesLabel, type DeviceParts } from '../core/selection.js';
import { sanitize } from '../core/text.js';
import { wrapText } from '../terminal/text.js';
import type { SearchProgress } from '../services/session/device-search.js';
import { type ListRow, WindowedList } from './components/WindowedList.js';
import { type KeyHint, useScreen } from './context.js';
import { isPrintable } from './hooks/keys.js';
import { useRefState } from './hooks/use-ref-state.js';
import type { SelectionInfo } from './routes.js';

type Phase =
  | { step: 'typing' }
  | { step: 'searching'; progress?: SearchProgress }
  | { step: 'found'; ids: string[]; parts: DeviceParts }
  | { step: 'error'; message: string };

const TYPING_HINTS: KeyHint[] = [
  { keys: 'type IDs', does: 'spaces or commas between them', footer: true },
  { keys: 'Enter', does: 'find them', footer: true },
  { keys: 'Esc', does: 'back', footer: true },
];
const FOUND_HINTS: KeyHint[] = [
  { keys: 'Enter', does: 'choose what to do with them', footer: true },
  { keys: 'e', does: 'edit the IDs', footer: true },
  { keys: 'Esc', does: 'back', footer: true },
];

const idsOf = (text: string): string[] => [
  ...new Set(
    text
      .split(/[\s,;]+/)
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ),
];

/** The review's and the confirmation's words for devices found by their IDs. */
export function devicesInfo(ids: string[], parts: DeviceParts): SelectionInfo {
  const found = parts.enrollments.length + parts.groups.reduce((n, g) => n + g.devices.length, 0);
  return {
    selection: { kind: 'devices', ids, parts },
    targetLabel: devicesLabel(ids),
    scope: `${found} in DPS, ${parts.unenrolled.length} not in DPS (hub identities looked up on every hub)`,
    attestation: 'as each enrollment',
    // A permanent plan over several devices is confirmed by typing the first device's ID.
    confirmId: ids[0] ?? '',
  };
}

export function whereLines(parts: DeviceParts): ListRow[] {
  const out: ListRow[] = [];
  for (const id of parts.enrollments)
    out.push({ text: `${sanitize(id)}: individual enrollment ${sanitize(id)}` });
  for (const g of parts.groups) {
    for (const d of g.devices) {
      out.push({
        text: `${sanitize(d.registrationId)}: enrollment group ${sanitize(g.groupId)} (a blocker each)`,
      });
    }
  }
  for (const id of parts.unenrolled) {
    out.push({
      text: `${sanitize(id)}: not in DPS (its hub identities, if any, are found when planning)`,
      tone: 'caution',
    });
  }
  return out;
}

export function FindDevicesScreen() {
  const [text, setText, getText] = useRefState('');
  const [phase, setPhase, getPhase] = useRefState<Phase>({ step: 'typing' });
  const current = phase.step;
  const app = useScreen(current === 'found' ? FOUND_HINTS : TYPING_HINTS, (k) => {
    const p = getPhase();
    if (p.step === 'searching') return k.name !== 'escape';
    if (p.step === 'found') {
      if (k.name === 'return') {
        app.nav.push({ screen: 'permanence', info: devicesInfo(p.ids, p.parts) });
        return true;
      }
      if (k.name === 'char' && k.text === 'e') {
        setPhase({ step: 'typing' });
        return true;
      }
      return false;
    }
    if (k.name === 'return') {
      const ids = idsOf(getText());
      if (ids.length > 0) find(ids);
      return true;
    }
    if (k.name === 'backspace') {
      setText((t) => t.slice(0, -1));
      if (p.step === 'error') setPhase({ step: 'typing' });
      return true;
    }
    if (isPrintable(k)) {
      setText((t) => (t + k.text).slice(0, 4000));
      if (p.step === 'error') setPhase({ step: 'typing' });
      return true;
    }
    return false;
  });
  const { backend, columns, bodyRows } = app;

  const find = (ids: string[]) => {
    if (!backend.findDevices) {
      setPhase({ step: 'error', message: 'this session cannot search DPS for devices' });
      return;
    }
    setPhase({ step: 'searching' });
    backend
      .findDevices(ids, (progress) => {
        if (getPhase().step === 'searching') setPhase({ step: 'searching', progress });
      })
      .then(
        (parts) => setPhase({ step: 'found', ids, parts }),
        (err: unknown) =>
          setPhase({ step: 'error', message: err instanceof Error ? err.message : String(err) }),
      );
  };

  const lines: ListRow[] = [
    { text: 'Find devices by their IDs (registration IDs), wherever they are enrolled.', bold: true },
    { text: 'Type one or more IDs, spaces or commas between them, then Enter.', tone: 'dim' },
    { text: ' ' },
    ...wrapText(`> ${sanitize(text)}${current === 'typing' || current === 'error' ? '▌' : ''}`, columns).map(
      (t) => ({
        text: t,
      }),
    ),
    { text: ' ' },
  ];
  if (phase.step === 'searching') {
    const p = phase.progress;
    lines.push({
      text: p
        ? `Searching the groups' records: ${p.groupsSearched} of ${p.groups} groups, ` +
          `${p.recordsRead} records read, ${p.remaining} to find…`
        : 'Looking the IDs up as individual enrollments…',
      tone: 'accent',
    });
  } else if (phase.step === 'error') {
    lines.push({ text: `Could not search: ${sanitize(phase.message)}`, tone: 'danger', bold: true });
  } else if (phase.step === 'found') {
    lines.push(
      { text: `Where each device is (${phase.ids.length}):`, bold: true },
      ...whereLines(phase.parts),
    );
    lines.push(
      { text: ' ' },
      { text: 'Enter: choose what to do with them (one plan, one review).', tone: 'caution', bold: true },
    );
  }
  const wrapped = lines.flatMap((l) => wrapText(l.text, columns).map((t) => ({ ...l, text: t })));
  return (
    <Box flexDirection="column">
      <WindowedList
        rows={wrapped.slice(-bodyRows)}
        offset={0}
        height={Math.max(1, bodyRows - 1)}
        index={-1}
        render={(l) => l}
      />
    </Box>
  );
}
