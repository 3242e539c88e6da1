/**
 * Step 4: how permanent each action is. Safe defaults (disable at DPS, disable on the hub, keep the
 * registration records and the group); every change asks the session to plan the choices, and the
 * screen shows the session's plan: its warnings with the recommended choice, in words. The review
 * then shows (and confirms) that same plan.
 */
import { Box } from 'ink';
import { useEffect, useRef } from 'react';
import { type Preview, previewOf } from '../services/session/deprovision-session.js';
import { type Actions, SAFE_ACTIONS } from '../core/selection.js';
import { sanitize } from '../core/text.js';
import { fitWidth, wrapText } from '../terminal/text.js';
import { Line } from './components/Line.js';
import { WindowedList } from './components/WindowedList.js';
import { warningLines } from './components/warning-lines.js';
import { type AnyChoice, choicesFor, EDGE_CHILDREN, LABEL_WIDTH } from './choices.js';
import { type KeyHint, useApp, useIsTop, useScreen, useSessionView } from './context.js';
import { isChar } from './hooks/keys.js';
import { useRefState } from './hooks/use-ref-state.js';
import type { SelectionInfo } from './routes.js';

const HINTS: KeyHint[] = [
  { keys: '↑↓ j/k', does: 'choose a row', footer: true },
  { keys: '←→ Space', does: 'change', footer: true },
  { keys: 'Enter', does: 'review the plan', footer: true },
  { keys: 'PgUp/PgDn', does: 'scroll the warnings' },
  { keys: 'Esc', does: 'back', footer: true },
];

const optionIndex = (c: AnyChoice, a: Actions): number =>
  Math.max(
    0,
    c.options.findIndex((o) => o.value === a[c.key]),
  );

export function isPermanent(a: Actions): boolean {
  return a.disenroll === 'delete' || a.deregister === 'delete' || a.deleteRegistrations || a.deleteGroup;
}

/**
 * Which blockers the plan writes: X.509 ones (from a device certificate) or the symmetric-key
 * fallback, counted from the plan itself (the sandbox attaches the certificates it holds).
 */
export function blockerText(plan: Preview): string {
  const base = 'a DISABLED blocker enrollment per device';
  if (plan.status !== 'planned') return base;
  let x509 = 0;
  let key = 0;
  for (const step of plan.plan.steps) {
    if (step.op.kind !== 'createBlocker') continue;
    if (step.op.attestation === 'x509') x509++;
    else key++;
  }
  if (x509 === 0 && key === 0) return base;
  if (key === 0) return 'a DISABLED X.509 blocker per device (certificate)';
  if (x509 === 0) return 'a DISABLED symmetric-key blocker per device';
  return `DISABLED blockers: ${x509} X.509, ${key} symmetric-key`;
}

/** True when the plan found IoT Edge gateways with children among the devices (the control then shows). */
const hasEdgeChildren = (plan: Preview): boolean =>
  plan.status === 'planned' && plan.plan.warnings.some((w) => w.code === 'edge-children');

/** The choices after `choice` turned one option forward (or back, `step` -1). */
function turned(choice: AnyChoice, a: Actions, step: number): Actions {
  const n = choice.options.length;
  const next = choice.options[(optionIndex(choice, a) + step + n) % n];
  const changed: Actions = { ...a, [choice.key]: next?.value };
  // No hub action: no children to include either (the plan and the journal then say nothing of them).
  if (changed.deregister === 'none') delete changed.includeChildren;
  return changed;
}

/** The controls shown: the Edge control stays once shown (while the plan is re-checked) and whenever children were chosen. */
function useChoices(info: SelectionInfo, actions: Actions, plan: Preview): AnyChoice[] {
  const edgeSeen = useRef(false);
  if (hasEdgeChildren(plan) || actions.includeChildren) edgeSeen.current = true;
  return edgeSeen.current && actions.deregister !== 'none'
    ? [...choicesFor(info), EDGE_CHILDREN]
    : choicesFor(info);
}

/** The session's plan for these choices; it plans them (again when the person comes back here). */
function useChoicesPlan(info: SelectionInfo, actions: Actions): Preview {
  const { session } = useApp();
  const view = useSessionView(session);
  const top = useIsTop();
  useEffect(() => {
    if (top) session.preview(info.selection, actions);
  }, [session, top, info.selection, actions]);
  return previewOf(view, info.selection, actions);
}

/** The plan's warnings (or its refusal, or where planning is) in words. */
function planWarningLines(plan: Preview, width: number): ReturnType<typeof warningLines> {
  if (plan.status === 'checking') return [{ text: 'Checking the plan for these choices…', tone: 'dim' }];
  if (plan.status === 'error') {
    return [{ text: `Could not check the plan: ${sanitize(plan.message)}`, tone: 'danger' }];
  }
  if (plan.status === 'refused') {
    const { message, advice } = plan.refusal;
    return warningLines(
      [{ severity: 'danger', message: `The tool will not do this: ${message}`, advice }],
      width,
    );
  }
  if (plan.plan.warnings.length === 0) return [{ text: 'No warnings for these choices.', tone: 'ok' }];
  return warningLines(plan.plan.warnings, width);
}

/** One control: its label and its option, highlighted when chosen, red when permanent. */
function ChoiceLine({
  choice,
  actions,
  selected,
}: {
  choice: AnyChoice;
  actions: Actions;
  selected: boolean;
}) {
  const option = choice.options[optionIndex(choice, actions)];
  const permanent = option?.text.includes('DELETE') ?? false;
  return (
    <Line
      text={`${selected ? '›' : ' '} ${fitWidth(choice.label, LABEL_WIDTH)}‹ ${option?.text ?? ''} ›`}
      inverse={selected}
      tone={permanent ? 'danger' : 'plain'}
      bold={permanent}
    />
  );
}

export function PermanenceScreen({ info }: { info: SelectionInfo }) {
  const app = useScreen(HINTS, (k) => {
    const row = getRow();
    const choice = choices[row] as AnyChoice;
    if (k.name === 'up' || isChar(k, 'k')) setRow(Math.max(0, row - 1));
    else if (k.name === 'down' || isChar(k, 'j')) setRow(Math.min(choices.length - 1, row + 1));
    else if (k.name === 'right' || k.name === 'left' || isChar(k, ' ')) {
      setActions((a) => turned(choice, a, k.name === 'left' ? -1 : 1));
    } else if (k.name === 'pageDown') setScroll((s) => Math.min(s + windowRows, maxScroll));
    else if (k.name === 'pageUp') setScroll((s) => Math.max(0, Math.min(s, maxScroll) - windowRows));
    else if (k.name === 'return') app.nav.push({ screen: 'review', info, actions: getActions() });
    else return false;
    return true;
  });
  const { columns, bodyRows } = app;
  const [row, setRow, getRow] = useRefState(0);
  const [actions, setActions, getActions] = useRefState<Actions>(SAFE_ACTIONS);
  const [scroll, setScroll] = useRefState(0);
  const plan = useChoicesPlan(info, actions);
  const choices = useChoices(info, actions, plan);
  const title = wrapText(`Deprovision ${info.targetLabel}: ${info.scope}`, columns).slice(0, 3);
  const fixedLines =
    title.length + 1 + 1 + choices.length + (info.selection.kind === 'groupDevices' ? 1 : 0) + 1 + 1 + 1;
  const warningHeight = Math.max(2, bodyRows - fixedLines);
  const lines = planWarningLines(plan, columns - 2);
  // More lines than room: the last row says where the window is, so nothing is cut without a word.
  const overflow = lines.length > warningHeight;
  const windowRows = overflow ? warningHeight - 1 : warningHeight;
  const maxScroll = Math.max(0, lines.length - windowRows);
  const offset = Math.min(scroll, maxScroll);

  return (
    <Box flexDirection="column">
      {title.map((line) => (
        <Line key={line} text={line} bold />
      ))}
      <Line text={`Attestation: ${info.attestation}`} />
      <Line text=" " />
      {info.selection.kind === 'groupDevices' ? (
        <Line text={`  ${fitWidth('DPS (disenroll)', LABEL_WIDTH)}${blockerText(plan)}`} />
      ) : null}
      {choices.map((c, i) => (
        <ChoiceLine key={c.key} choice={c} actions={actions} selected={i === row} />
      ))}
      <Line text=" " />
      <Warnings
        lines={lines}
        offset={offset}
        height={windowRows}
        overflow={overflow}
        permanent={isPermanent(actions)}
      />
      <Line text="Enter: review the plan (nothing changes until you confirm there)." tone="accent" />
    </Box>
  );
}

/** The warnings' heading and window; when they overflow, a last row says where the window is. */
function Warnings({
  lines,
  offset,
  height,
  overflow,
  permanent,
}: {
  lines: ReturnType<typeof warningLines>;
  offset: number;
  height: number;
  overflow: boolean;
  permanent: boolean;
}) {
  const where = `lines ${offset + 1}-${Math.min(lines.length, offset + height)} of ${lines.length}`;
  return (
    <>
      <Line
        text={permanent ? '! Permanent actions chosen: they cannot be undone. Warnings:' : 'Warnings:'}
        tone={permanent ? 'danger' : 'plain'}
        bold
      />
      <WindowedList rows={lines} offset={offset} height={height} index={-1} render={(l) => l} />
      {overflow ? <Line text={`  ${where} · PgDn/PgUp scroll the warnings`} tone="dim" /> : null}
    </>
  );
}
